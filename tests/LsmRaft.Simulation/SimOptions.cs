namespace LsmRaft.Simulation;

/// <summary>A deliberately broken variant the simulator must catch (its self-test).</summary>
internal enum SimBug
{
    None,

    /// <summary>Core: the leader commits old-term entries by counting replicas (breaks §5.4.2).</summary>
    CommitOldTermByCounting,

    /// <summary>Core: a node may vote twice in one term (breaks §5.2).</summary>
    GrantTwoVotesPerTerm,

    /// <summary>Shell: a Ready's messages leave before its entries and hard state are fsynced.</summary>
    SkipPersistBeforeSend,

    /// <summary>Core: a leader keeps a departing member's old match when the member is added back with a forgotten log.</summary>
    KeepProgressOfReaddedMember,
}

/// <summary>How one seed is simulated.</summary>
/// <param name="Steps">Scheduler steps; each advances simulated time by one millisecond.</param>
/// <param name="Nodes">Initial voters; 0 lets the seed choose 3 to 5.</param>
/// <param name="AsyncLeaderPersist">Leaders persist in parallel with replication (RaftConfig.AsyncLeaderPersist): their messages leave before their own fsync.</param>
/// <param name="CoalesceAppends">Leaders coalesce appends until the next Ready (RaftConfig.CoalesceAppends); null: odd seeds do, even seeds do not.</param>
/// <param name="PipelinedReadies">Nodes take new Readies while earlier ones wait for their fsync (RaftConfig.PipelinedReadies); null: seeds with bit 1 set do.</param>
/// <param name="Quiesce">
/// Idle groups quiesce (RaftConfig.QuiesceAfterTicks) with a liveness oracle derived from crashes and partitions, and clients
/// pause every other 300 steps so the group goes idle; null: seeds with bit 2 set do.
/// </param>
internal sealed record SimOptions(int Steps, int Nodes = 0, SimBug Bug = SimBug.None, bool Verbose = false, bool AsyncLeaderPersist = false, bool? CoalesceAppends = null, bool? PipelinedReadies = null, bool? Quiesce = null);

/// <summary>One checker's finding.</summary>
internal sealed record Violation(string Checker, string Details);

/// <summary>Counts that show what a seed exercised.</summary>
internal sealed class SimStats
{
    public int Committed { get; set; }

    public int Reads { get; set; }

    public int NotLeader { get; set; }

    public int TimedOut { get; set; }

    public int Crashes { get; set; }

    public int Partitions { get; set; }

    public int Leaders { get; set; }

    public int SnapshotsInstalled { get; set; }

    public int ConfChangesApplied { get; set; }

    public int Transfers { get; set; }

    /// <summary>Removed nodes added back with a forgotten log (a replica moved back onto a node that held it).</summary>
    public int Rejoins { get; set; }

    public int OldTermCommits { get; set; }

    /// <summary>Ticks at which the leader was quiesced (with quiescence on).</summary>
    public int QuiescedLeaderTicks { get; set; }

    /// <summary>Ticks at which a follower was quiesced although its leader's node was down (the oracle had not told it yet, or was wrong).</summary>
    public int QuiescedOrphanTicks { get; set; }

    public void Add(SimStats other)
    {
        Committed += other.Committed;
        Reads += other.Reads;
        NotLeader += other.NotLeader;
        TimedOut += other.TimedOut;
        Crashes += other.Crashes;
        Partitions += other.Partitions;
        Leaders += other.Leaders;
        SnapshotsInstalled += other.SnapshotsInstalled;
        ConfChangesApplied += other.ConfChangesApplied;
        Transfers += other.Transfers;
        Rejoins += other.Rejoins;
        OldTermCommits += other.OldTermCommits;
        QuiescedLeaderTicks += other.QuiescedLeaderTicks;
        QuiescedOrphanTicks += other.QuiescedOrphanTicks;
    }

    public override string ToString() =>
        $"writes-committed={Committed} reads={Reads} not-leader={NotLeader} timed-out={TimedOut} crashes={Crashes} partitions={Partitions} " +
        $"leaders={Leaders} snapshots-installed={SnapshotsInstalled} conf-changes={ConfChangesApplied} transfers={Transfers} rejoins={Rejoins} old-term-commits={OldTermCommits} " +
        $"quiesced-leader-ticks={QuiescedLeaderTicks} quiesced-orphan-ticks={QuiescedOrphanTicks}";
}

/// <summary>What one seed produced.</summary>
internal sealed record SeedResult(int Seed, IReadOnlyList<Violation> Violations, ulong TraceHash, SimStats Stats);
