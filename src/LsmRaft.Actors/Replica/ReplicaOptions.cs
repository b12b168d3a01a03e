using LsmRaft.Raft;
using LsmRaft.Storage;

namespace LsmRaft.Actors.Replica;

/// <summary>Settings of one replica (one member of one Raft group on this node).</summary>
internal sealed record ReplicaOptions
{
    public required ulong GroupId { get; init; }

    /// <summary>
    /// This replica's Raft id: its node and incarnation packed (<see cref="LsmRaft.Protocol.Cluster.ReplicaId"/>), from
    /// the replica's manifest; the node id itself for a bootstrap replica.
    /// </summary>
    public required ulong NodeId { get; init; }

    /// <summary>The replica's own directory (engine, snapshots, incoming snapshots).</summary>
    public required string Directory { get; init; }

    /// <summary>Engine options; the WAL is always turned off (the Raft log is the WAL).</summary>
    public LsmOptions EngineOptions { get; init; } = new();

    /// <summary>
    /// Membership of a brand-new group, given to each founding replica (ignored when the replica has state on disk).
    /// A replica joining an existing group starts with <see cref="ConfState.Empty"/>: it never campaigns and learns
    /// the membership from the leader's snapshot (docs/raft.md, "New members start from a snapshot").
    /// </summary>
    public ConfState InitialMembers { get; init; } = ConfState.Empty;

    /// <summary>The hash range a brand-new shard owns until its engine records a <see cref="ShardDescriptor"/> (a split, a snapshot).</summary>
    public ShardDescriptor InitialRange { get; init; } = ShardDescriptor.WholeRing;

    /// <summary>The node's Raft instruments (shared by its replicas); null: none.</summary>
    public RaftMetrics? Metrics { get; init; }

    /// <summary>Held while a replica directory is created on this node (by a split, or by the host); one object per node.</summary>
    public object ReplicaCreationLock { get; init; } = new();

    /// <summary>Called (on the storage actor) after a split created a new shard's replica on this node; the host starts it.</summary>
    public Action<SplitCreated>? SplitCreated { get; init; }

    /// <summary>Called (on the storage actor) after this replica applied a split, with the resulting descriptors.</summary>
    public Action<ApplyResult.Split>? SplitApplied { get; init; }

    /// <summary>Wall-clock length of one Raft tick. Election timeout = <see cref="ElectionTicks"/> ticks.</summary>
    public TimeSpan TickInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    public int ElectionTicks { get; init; } = 10;

    public int HeartbeatTicks { get; init; } = 1;

    /// <summary>
    /// Idle ticks after which the leader quiesces the group (no heartbeats, no election timers until something
    /// happens; docs/raft.md, "Quiescence"); 0 keeps every group ticking.
    /// </summary>
    public int QuiesceAfterTicks { get; init; } = 3;

    /// <summary>
    /// Node-liveness oracle: a quiesced follower whose leader's node is reported not live wakes and elects a new
    /// leader if needed. null means always live: then an idle group whose leader's node died stays leaderless until
    /// a request or a message wakes a follower, so a host must set it (NodeRuntime uses its peer connections).
    /// It is asked about a node id: the replica decodes the node from the leader's Raft id.
    /// </summary>
    public Func<ulong, bool>? IsNodeLive { get; init; }

    /// <summary>Take a snapshot (engine checkpoint) and compact the log every this many applied entries.</summary>
    public ulong SnapshotInterval { get; init; } = 10_000;

    /// <summary>
    /// Readies whose log writes may be in flight at once (pipelining, RaftConfig.PipelinedReadies). A leader sends
    /// a Ready's appends before its own write is durable, so with too few slots, new proposals and commits wait
    /// behind the leader's fsync; a follower's later appends join the batch queued behind the fsync in flight
    /// rather than the one after it. Measured in docs/benchmarks.md (raft, --readies).
    /// </summary>
    public int MaxReadiesInFlight
    {
        get;
        init => field = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(MaxReadiesInFlight), value, "At least one Ready must be allowed in flight.");
    } = DefaultMaxReadiesInFlight;

    /// <summary>The default of <see cref="MaxReadiesInFlight"/>.</summary>
    public const int DefaultMaxReadiesInFlight = 8;

    /// <summary>Bytes per snapshot chunk on the wire.</summary>
    public int SnapshotChunkBytes { get; init; } = 1 << 20;

    /// <summary>Allow lease reads (needs CheckQuorum, which is always on).</summary>
    public bool LeaseReads { get; init; } = true;

    /// <summary>Notified whenever the replica's role, leader, term or membership changes (for waiters; optional).</summary>
    public ChangeSignal? StatusChanged { get; init; }

    /// <summary>
    /// Told (on the storage actor's thread) when the replica's engine opens, with the engine, and before it closes,
    /// with null: the host reads <see cref="LsmRaft.Storage.LsmEngine.GetStats"/> (thread-safe) for monitoring
    /// without a round trip through the mailbox. Optional.
    /// </summary>
    public Action<ulong, LsmRaft.Storage.LsmEngine?>? EngineChanged { get; init; }

    /// <summary>Told when the storage opens or fails and when the replica stops for good (optional).</summary>
    public IReplicaHealthObserver? HealthObserver { get; init; }

    /// <summary>How the replica's storage actor is restarted after failures, and when it is given up.</summary>
    public RestartPolicy StorageRestarts { get; init; } = RestartPolicy.Default;

    /// <summary>Seed of the election-timeout jitter.</summary>
    public int Seed { get; init; } = Environment.TickCount;

    public RaftConfig ToRaftConfig(ulong applied) => new()
    {
        Id = NodeId,
        ElectionTicks = ElectionTicks,
        HeartbeatTicks = HeartbeatTicks,
        QuiesceAfterTicks = QuiesceAfterTicks,
        IsNodeLive = IsNodeLive is { } live ? raftId => live(LsmRaft.Protocol.Cluster.ReplicaId.NodeOf(raftId)) : null,
        PreVote = true,
        CheckQuorum = true,
        AsyncLeaderPersist = true,
        CoalesceAppends = true,
        PipelinedReadies = true,
        ReadOnlyOption = ReadOnlyOption.Safe, // lease reads are decided per request by the shell (HasLease)
        Applied = applied,
        Random = new Random(Seed),
        MaxSizePerMsg = 1 << 20,
        MaxInflight = 256,
    };
}
