namespace LsmRaft.Raft;

/// <summary>How an election starts.</summary>
internal enum CampaignType : byte
{
    /// <summary>A pre-vote round that does not change the term (only with <see cref="RaftConfig.PreVote"/>).</summary>
    PreElection,

    /// <summary>A normal election: increment the term and ask for votes.</summary>
    Election,

    /// <summary>An election the leader asked for (leader transfer): skips pre-vote and followers' leases.</summary>
    Transfer,
}

/// <summary>
/// The Raft state machine of one node. Deterministic and single-threaded: it changes only in
/// <see cref="Tick"/> and <see cref="Step"/> (and the request methods), reads storage but never writes it,
/// and leaves its output (messages, read states, log changes) for <see cref="RaftNode"/> to collect.
/// </summary>
/// <remarks>
/// Invariants: <c>Lead == Id</c> exactly when <c>Role == Leader</c>; a leader's log contains every entry it
/// proposed in its term; <c>Vote</c> changes at most once per term (persisted before any vote response leaves).
/// </remarks>
internal sealed partial class Raft
{
    public const ulong None = 0;

    /// <summary>Context of vote requests forced by a leader transfer; voters ignore their lease for these.</summary>
    public static readonly byte[] CampaignTransferContext = "CampaignTransfer"u8.ToArray();

    private readonly RaftConfig cfg;
    private readonly List<Message> msgs = [];
    private readonly List<ReadState> readStates = [];
    private readonly ReadOnly readOnly = new();
    private readonly List<Message> pendingReadIndexMessages = [];

    /// <summary>With <see cref="RaftConfig.CoalesceAppends"/>: followers owed an append when messages are next taken (each id once, in queue order).</summary>
    private readonly List<(ulong To, bool SendIfEmpty)> pendingAppends = [];
    private readonly ConfigHistory configs;

    /// <summary>Leader only: removed members still sent the log until they learn their removal committed (see <see cref="PruneDeparting"/>).</summary>
    private readonly SortedDictionary<ulong, Departure> departing = [];

    private int electionElapsed;
    private int heartbeatElapsed;
    private int randomizedElectionTimeout;

    /// <summary>Index of the latest conf change this leader appended (or of its first entry); new changes wait until it commits.</summary>
    private ulong pendingConfIndex;

    /// <summary>Ticks since the node was created; dates heartbeats for leases. Monotonic.</summary>
    private long tickCount;

    public Raft(RaftConfig config, IRaftStorage storage)
    {
        config.Validate();
        cfg = config;
        Id = config.Id;
        Log = new RaftLog(storage, config.MaxCommittedSizePerReady);
        var (hardState, confState) = storage.InitialState();
        configs = new ConfigHistory(Log.FirstIndex() - 1, confState);
        ReplayConfChanges();
        Tracker = new ProgressTracker(configs.Current, config.MaxInflight, config.MaxInflightBytes);
        if (hardState != HardState.Empty)
        {
            Term = hardState.Term;
            Vote = hardState.Vote;
            Log.LoadCommit(hardState.Commit);
        }

        if (config.Applied != 0)
        {
            Log.SetAppliedOnStart(config.Applied);
        }

        configs.Prune(Log.Applied);
        BecomeFollower(Term, None);
        Info($"started: term={Term} commit={Log.Committed} applied={Log.Applied} last={Log.LastIndex()}/{Log.LastTerm()} {configs.Current}");
    }

    public ulong Id { get; }

    public ulong Term { get; private set; }

    /// <summary>Who this node voted for in <see cref="Term"/>; <see cref="None"/> if nobody.</summary>
    public ulong Vote { get; private set; }

    /// <summary>The leader of <see cref="Term"/> as far as this node knows; <see cref="None"/> if unknown.</summary>
    public ulong Lead { get; private set; }

    public RaftRole Role { get; private set; }

    public RaftLog Log { get; }

    public ProgressTracker Tracker { get; }

    /// <summary>The node leadership is being handed to; <see cref="None"/> when no transfer is under way.</summary>
    public ulong LeadTransferee { get; private set; }

    /// <summary>Only voters of the current configuration may campaign.</summary>
    public bool Promotable => Tracker.Config.Voters.Contains(Id);

    public SoftState SoftState => new(Lead, Role);

    public HardState HardState => new(Term, Vote, Log.Committed);

    public ConfState Config => configs.Current;

    public bool HasPendingOutput => msgs.Count > 0 || readStates.Count > 0 || pendingAppends.Count > 0;

    /// <summary>
    /// Set when the leader had to send a snapshot but its storage had none that fits (none yet, or one taken
    /// before the follower joined, which the follower would refuse); the shell should take a new one.
    /// </summary>
    public bool SnapshotRequested { get; set; }

    /// <summary>Take the messages produced since the last call (sending the coalesced appends first).</summary>
    public IReadOnlyList<Message> TakeMessages()
    {
        FlushAppends();
        if (msgs.Count == 0)
        {
            return [];
        }

        var taken = msgs.ToArray();
        msgs.Clear();
        return taken;
    }

    public IReadOnlyList<ReadState> TakeReadStates()
    {
        var taken = readStates.ToArray();
        readStates.Clear();
        return taken;
    }

    /// <summary>The configuration in effect once the log up to <paramref name="index"/> is applied.</summary>
    public ConfState ConfigAt(ulong index) => configs.At(index);

    /// <summary>The shell applied up to <see cref="RaftLog.Applied"/>; older configurations are no longer needed.</summary>
    public void OnApplied() => configs.Prune(Log.Applied);

    public void Tick()
    {
        tickCount++;
        if (Quiesced)
        {
            TickQuiesced();
        }
        else if (Role == RaftRole.Leader)
        {
            if (!MaybeQuiesce())
            {
                TickHeartbeat();
            }
        }
        else
        {
            TickElection();
        }
    }

    private void TickElection()
    {
        electionElapsed++;
        if (Promotable && electionElapsed >= randomizedElectionTimeout)
        {
            electionElapsed = 0;
            Step(new Message { Type = MessageType.Hup, From = Id });
        }
    }

    private void TickHeartbeat()
    {
        heartbeatElapsed++;
        electionElapsed++;
        if (electionElapsed >= cfg.ElectionTicks)
        {
            electionElapsed = 0;
            PruneDeparting();
            if (cfg.CheckQuorum)
            {
                Step(new Message { Type = MessageType.CheckQuorum, From = Id });
            }

            if (Role == RaftRole.Leader && LeadTransferee != None)
            {
                Info($"aborting leader transfer to {LeadTransferee}: it did not take over within an election timeout");
                AbortLeaderTransfer();
            }
        }

        if (Role != RaftRole.Leader)
        {
            return;
        }

        if (heartbeatElapsed >= cfg.HeartbeatTicks)
        {
            heartbeatElapsed = 0;
            Step(new Message { Type = MessageType.Beat, From = Id });
        }
    }

    private void Reset(ulong term)
    {
        if (Term != term)
        {
            Term = term;
            Vote = None;
        }

        Lead = None;
        Quiesced = false;
        idleTicks = 0;
        electionElapsed = 0;
        heartbeatElapsed = 0;
        randomizedElectionTimeout = cfg.ElectionTicks + cfg.Random.Next(cfg.ElectionTicks);
        AbortLeaderTransfer();
        departing.Clear();
        Tracker.ResetVotes();
        Tracker.ResetAll(Log.LastIndex());
        // Only durable entries count for the leader itself when it persists in parallel with replication.
        Tracker.Get(Id)?.SetSelf(cfg.AsyncLeaderPersist ? Math.Min(Log.LastIndex(), Log.Unstable.Offset - 1) : Log.LastIndex());
        pendingConfIndex = 0;
        readOnly.Clear();
        pendingReadIndexMessages.Clear();
        pendingAppends.Clear();
    }

    private void BecomeFollower(ulong term, ulong lead)
    {
        Reset(term);
        Lead = lead;
        Role = RaftRole.Follower;
        Info($"became follower at term {Term}" + (lead == None ? string.Empty : $", leader {lead}"));
    }

    private void BecomePreCandidate()
    {
        if (Role == RaftRole.Leader)
        {
            throw new InvalidOperationException("A leader cannot become a pre-candidate.");
        }

        // A pre-vote changes neither term nor vote: a partitioned node cannot inflate terms.
        Tracker.ResetVotes();
        Lead = None;
        Quiesced = false;
        Role = RaftRole.PreCandidate;
        Info($"became pre-candidate at term {Term}");
    }

    private void BecomeCandidate()
    {
        if (Role == RaftRole.Leader)
        {
            throw new InvalidOperationException("A leader cannot become a candidate.");
        }

        Reset(Term + 1);
        Vote = Id;
        Role = RaftRole.Candidate;
        Info($"became candidate at term {Term}");
    }

    private void BecomeLeader()
    {
        if (Role == RaftRole.Follower)
        {
            throw new InvalidOperationException("A follower cannot become leader without an election.");
        }

        Reset(Term);
        Lead = Id;
        Role = RaftRole.Leader;
        var self = Tracker.Get(Id)!;
        self.BecomeReplicate();
        self.RecentActive = true;

        // The empty entry of the new term: committing it commits every earlier entry (§5.4.2) and marks
        // the point after which this leader may change the configuration and answer read-index requests.
        var noop = AppendEntries([new Entry(0, 0, EntryType.Normal, [])]);
        pendingConfIndex = noop.Index;
        Info($"became leader at term {Term}");
    }

    private void AbortLeaderTransfer() => LeadTransferee = None;

    private void Send(Message m)
    {
        var from = m.From == None ? Id : m.From;
        var term = m.Term;
        if (m.Type is MessageType.Vote or MessageType.PreVote or MessageType.VoteResp or MessageType.PreVoteResp)
        {
            if (m.Term == 0)
            {
                throw new InvalidOperationException($"{m.Type} must carry an explicit term.");
            }
        }
        else if (m.Type is not (MessageType.ReadIndex or MessageType.TransferLeader))
        {
            // Forwarded requests stay term-less: they are valid at whichever term the leader is in.
            term = Term;
        }

        // Hot paths build messages with From and Term already set: no copy then.
        if (from != m.From || term != m.Term)
        {
            m = m with { From = from, Term = term };
        }

        msgs.Add(m);
    }

    private void Info(string text) => cfg.Logger?.Invoke($"{Id} {text}");

    private void ReplayConfChanges()
    {
        var next = Log.FirstIndex();
        var last = Log.LastIndex();
        while (next <= last)
        {
            var batch = Log.Slice(next, last + 1, 1 << 20);
            RecordConfChanges(batch);
            next = batch[^1].Index + 1;
        }
    }
}
