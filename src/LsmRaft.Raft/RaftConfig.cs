namespace LsmRaft.Raft;

/// <summary>How the leader confirms it is still leader before answering a read.</summary>
public enum ReadOnlyOption : byte
{
    /// <summary>Every read index is confirmed by a heartbeat round acknowledged by a quorum.</summary>
    Safe,

    /// <summary>
    /// Reads are answered at once while the leader holds a lease (a quorum acknowledged a heartbeat recently
    /// enough; see docs/raft.md for the clock-drift bound); otherwise they fall back to <see cref="Safe"/>.
    /// Requires <see cref="RaftConfig.CheckQuorum"/> on every node of the group.
    /// </summary>
    LeaseBased,
}

/// <summary>
/// Deliberate violations of the Raft rules, for the deterministic simulator's self-test only: with one of
/// these set, the simulator's checkers must report a violation ("the checkers bite"). Never set in production;
/// <see cref="None"/> leaves every rule intact.
/// </summary>
[Flags]
internal enum RaftFaultInjection
{
    None = 0,

    /// <summary>The leader commits the quorum-replicated index even when its entry is from an older term (breaks §5.4.2).</summary>
    CommitOldTermByCounting = 1,

    /// <summary>A leader keeps what it knew of a departing member's log when that member is added back (its node may have forgotten that log).</summary>
    KeepProgressOfReaddedMember = 4,

    /// <summary>A node grants its vote to every up-to-date candidate of a term, not only the first (breaks §5.2).</summary>
    GrantTwoVotesPerTerm = 2,
}

/// <summary>Settings of one Raft node. Validated by <see cref="Validate"/> when the node is created.</summary>
public sealed record RaftConfig
{
    /// <summary>This node's id; never 0 (0 means "none").</summary>
    public required ulong Id { get; init; }

    /// <summary>Base election timeout in ticks; the effective timeout is drawn from [E, 2E) after each reset.</summary>
    public int ElectionTicks { get; init; } = 10;

    /// <summary>Leader heartbeat interval in ticks; must be less than <see cref="ElectionTicks"/>.</summary>
    public int HeartbeatTicks { get; init; } = 1;

    /// <summary>Most append messages in flight to one follower in the Replicate state.</summary>
    public int MaxInflight { get; init; } = 256;

    /// <summary>Most bytes of entries in flight to one follower; 0 means no byte limit.</summary>
    public ulong MaxInflightBytes { get; init; }

    /// <summary>Most bytes of entries in one append message (at least one entry is always sent).</summary>
    public ulong MaxSizePerMsg { get; init; } = 1 << 20;

    /// <summary>Most bytes of committed entries handed out in one <see cref="Ready"/>.</summary>
    public ulong MaxCommittedSizePerReady { get; init; } = ulong.MaxValue;

    /// <summary>Run a pre-vote round before incrementing the term (Ongaro thesis §9.6).</summary>
    public bool PreVote { get; init; }

    /// <summary>
    /// The leader steps down when it has not heard from a quorum within an election timeout, and followers
    /// ignore vote requests while they heard from a leader within an election timeout.
    /// </summary>
    public bool CheckQuorum { get; init; }

    public ReadOnlyOption ReadOnlyOption { get; init; } = ReadOnlyOption.Safe;

    /// <summary>
    /// Largest relative rate difference between any two nodes' tick clocks that lease reads must tolerate
    /// (0.1 = a follower's ticks may come 10% faster than the leader's).
    /// </summary>
    public double MaxClockDrift { get; init; } = 0.1;

    /// <summary>
    /// Index the shell's state machine has already applied on restart; 0 means "the storage snapshot's index".
    /// </summary>
    public ulong Applied { get; init; }

    /// <summary>
    /// The leader counts its own log toward the commit quorum only for entries the shell reported durable
    /// (through <see cref="RaftNode.Advance"/>), so the shell may send a leader's messages before persisting
    /// that Ready's entries — the leader writes its disk in parallel with replication (Ongaro thesis §10.2.1).
    /// Messages still wait when the Ready changes term or vote, and followers' messages always wait.
    /// </summary>
    public bool AsyncLeaderPersist { get; init; }

    /// <summary>
    /// The leader does not send an append per proposal and per acknowledgement: it notes which followers are
    /// owed one and sends when the shell takes the messages (<see cref="RaftNode.GetReady"/>), so every
    /// proposal and acknowledgement stepped since the previous Ready shares one append per follower carrying
    /// the newest entries and commit index. Same messages in content, fewer of them; the shell drains a Ready
    /// after each batch of inputs anyway, so no message waits longer than that.
    /// </summary>
    public bool CoalesceAppends { get; init; }

    /// <summary>
    /// Several Readies may be outstanding (etcd's asynchronous storage writes): the shell may take the next
    /// Ready while earlier ones are still being persisted, so its writes queue behind the fsync in flight instead
    /// of waiting for it. The shell must advance Readies in the order it took them, each only after its writes
    /// are durable, and send each Ready's messages only after that Ready's writes (and so every earlier one's)
    /// are durable, except where <see cref="AsyncLeaderPersist"/> allows a leader to send first. A Ready's
    /// committed entries are then always durable locally already (the core hands out only committed entries
    /// below the durable point), so the shell may apply them at once. A Ready carrying a snapshot is taken only
    /// when no other Ready is outstanding, and none is taken while it is.
    /// </summary>
    public bool PipelinedReadies { get; init; }

    /// <summary>
    /// A leader whose group has been idle for this many consecutive ticks (nothing to replicate, commit or apply,
    /// no read, transfer or membership change pending; see docs/raft.md, "Quiescence") sends one last heartbeat
    /// marked quiesce and stops its heartbeat and quorum-check timers; followers that accept it stop their election
    /// timers. Any proposal, read or message from an awake peer wakes the group. 0 disables quiescence.
    /// </summary>
    public int QuiesceAfterTicks { get; init; }

    /// <summary>
    /// Node-liveness oracle for quiesced followers: on each tick a quiesced follower whose leader is reported not live
    /// wakes and runs its normal election timeout. null means every node is live (then only messages and requests
    /// wake a quiesced follower). It affects liveness only; a wrong answer either way cannot break safety.
    /// </summary>
    public Func<ulong, bool>? IsNodeLive { get; init; }

    /// <summary>The only source of randomness (election timeout jitter). Seed it for reproducible runs.</summary>
    public required Random Random { get; init; }

    /// <summary>
    /// Test-only: deliberate rule violations for the simulator's self-test (tests/LsmRaft.Simulation).
    /// Internal so no configuration file or public API can set it.
    /// </summary>
    internal RaftFaultInjection Faults { get; init; }

    /// <summary>Optional sink for diagnostic lines; called synchronously, must not call back into the node.</summary>
    public Action<string>? Logger { get; init; }

    public void Validate()
    {
        if (Id == 0)
        {
            throw new ArgumentException("RaftConfig.Id must not be 0; 0 is reserved for 'no node'.");
        }

        if (HeartbeatTicks <= 0)
        {
            throw new ArgumentException($"RaftConfig.HeartbeatTicks must be positive (was {HeartbeatTicks}).");
        }

        if (ElectionTicks <= HeartbeatTicks)
        {
            throw new ArgumentException($"RaftConfig.ElectionTicks ({ElectionTicks}) must be greater than HeartbeatTicks ({HeartbeatTicks}).");
        }

        if (MaxInflight <= 0)
        {
            throw new ArgumentException($"RaftConfig.MaxInflight must be positive (was {MaxInflight}).");
        }

        if (ReadOnlyOption == ReadOnlyOption.LeaseBased && !CheckQuorum)
        {
            throw new ArgumentException("RaftConfig.ReadOnlyOption=LeaseBased requires CheckQuorum=true; without it no lease protects the leader.");
        }

        if (QuiesceAfterTicks < 0)
        {
            throw new ArgumentException($"RaftConfig.QuiesceAfterTicks must be 0 (off) or positive (was {QuiesceAfterTicks}).");
        }

        if (MaxClockDrift is < 0 or >= 1)
        {
            throw new ArgumentException($"RaftConfig.MaxClockDrift must be in [0, 1) (was {MaxClockDrift}).");
        }
    }
}
