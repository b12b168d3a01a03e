using LsmRaft.Protocol.Cluster;
using LsmRaft.Raft;

namespace LsmRaft.Actors.Replica;

/// <summary>How a proposal ended. Every proposal ends in exactly one of these, or the caller's Ask times out.</summary>
internal abstract record ProposeOutcome
{
    /// <summary>Committed at <see cref="Index"/> and applied with <see cref="Result"/>.</summary>
    public sealed record Committed(ulong Index, ApplyResult Result) : ProposeOutcome;

    /// <summary>This replica does not lead (or lost the entry to a new leader); <see cref="LeaderHint"/> is the leader's node id, 0 when unknown.</summary>
    public sealed record NotLeader(ulong LeaderHint) : ProposeOutcome;

    /// <summary>
    /// The leader refused the request for the stated reason. <see cref="Retryable"/>: only for now (a leadership
    /// transfer, or a membership change or the new leader's first entry, not yet committed); the same request later
    /// may pass.
    /// </summary>
    public sealed record Rejected(string Reason, bool Retryable = false) : ProposeOutcome;
}

/// <summary>The answer to a read: the value (null when absent) as of an applied index at or after the read index.</summary>
internal abstract record ReadOutcome
{
    public sealed record Value(byte[]? Data, ulong Version, ulong AppliedIndex) : ReadOutcome;

    /// <summary>Entries of a range read in key order: (key, value, version).</summary>
    public sealed record Entries(IReadOnlyList<(byte[] Key, byte[] Value, ulong Version)> Items, ulong AppliedIndex) : ReadOutcome;

    public sealed record NotLeader(ulong LeaderHint) : ReadOutcome;

    /// <summary>The key (or the range's epoch) is not this shard's any more: it was split; re-route with a fresh map.</summary>
    public sealed record WrongShard(ShardDescriptor Current) : ReadOutcome;
}

/// <summary>A replica's view of itself, for routing and the cluster view.</summary>
/// <param name="Members">The latest configuration in the replica's log (in effect even before it commits, §4.1).</param>
/// <param name="Removed">
/// The replica applied a committed configuration without itself: it is no longer a member and never will be again
/// under this group id, so the host should stop it and delete its directory. Never set on a replica that has not
/// learned any configuration yet (a new replica waiting for its first snapshot).
/// </param>
/// <param name="Quiesced">The group is idle and this replica's timers are stopped (see RaftConfig.QuiesceAfterTicks).</param>
/// <param name="NodeId">This replica's Raft id (its node and incarnation, <see cref="ReplicaId"/>).</param>
/// <param name="Leader">The leader's Raft id (0: none known); <see cref="LeaderNode"/> is where it runs.</param>
internal sealed record ReplicaStatus(ulong GroupId, ulong NodeId, RaftRole Role, ulong Leader, ulong Term, ulong Commit, ulong Applied, ConfState Members, bool Removed = false, bool Quiesced = false)
{
    /// <summary>The node the leader runs on (0: none known): where requests for the group are forwarded.</summary>
    public ulong LeaderNode => ReplicaId.NodeOf(Leader);
}

/// <summary>
/// A replica's view of replication, for driving a membership change: on the leader, <see cref="Peers"/> holds
/// every member's progress (and that of removed members it is still informing); elsewhere it is empty.
/// </summary>
/// <param name="LastIndex">The replica's last log index.</param>
/// <param name="ConfChangePending">This leader has a membership change (or its term's first entry) not yet committed; a new change would be rejected.</param>
internal sealed record GroupProgress(
    ulong GroupId,
    ulong NodeId,
    RaftRole Role,
    ulong Leader,
    ulong Term,
    ulong LastIndex,
    ulong Commit,
    ulong Applied,
    ConfState Members,
    bool ConfChangePending,
    IReadOnlyDictionary<ulong, PeerProgress> Peers)
{
    /// <summary>
    /// As seen by the leader: <paramref name="peer"/> installed its snapshot (if it needed one) and has replicated
    /// the log to within <paramref name="maxLag"/> entries of the commit index. Promote a learner only once this holds,
    /// or the group waits for it to catch up before it can commit anything.
    /// </summary>
    public bool IsCaughtUp(ulong peer, ulong maxLag) =>
        Role == RaftRole.Leader && Peers.TryGetValue(peer, out var p) && p.State != ProgressState.Snapshot && p.Match > 0 && p.Match + maxLag >= Commit;
}

/// <summary>The leader's view of one peer: replicated up to <see cref="Match"/>, next entry to send <see cref="Next"/>.</summary>
/// <param name="IsMember">False for a removed node the leader still sends the log to until it learns its removal committed.</param>
internal sealed record PeerProgress(ulong Match, ulong Next, ProgressState State, bool IsLearner, bool IsMember, bool RecentActive);

/// <summary>
/// Messages a <see cref="ReplicaActor"/> handles. Local only (they carry reply handles; peers exchange Raft messages as
/// PeerBatch): exempt from Akka's serialize-messages check, which the data-plane tests turn on.
/// </summary>
internal abstract record ReplicaMessage : Akka.Actor.INoSerializationVerificationNeeded
{
    public sealed record Propose(KvCommand Command, ReplyTo<ProposeOutcome> Reply) : ReplicaMessage;

    /// <summary>Read a key or a range linearizably (ReadIndex), by lease, or stale (local applied state).</summary>
    public sealed record Read(ReadQuery Query, ReadMode Mode, ReplyTo<ReadOutcome> Reply) : ReplicaMessage;

    public sealed record ChangeMembership(ConfChange Change, ReplyTo<ProposeOutcome> Reply) : ReplicaMessage;

    public sealed record TransferLeadership(ulong To, ReplyTo<RaftResult> Reply) : ReplicaMessage;

    public sealed record Step(Message Message) : ReplicaMessage;

    /// <summary>A snapshot chunk from the leader; the reply says which offset to send next.</summary>
    public sealed record SnapshotChunk(SnapshotChunkData Chunk, ReplyTo<SnapshotChunkAck> Reply) : ReplicaMessage;

    public sealed record GetStatus(ReplyTo<ReplicaStatus> Reply) : ReplicaMessage;

    /// <summary>Replication progress (the leader's view of every peer), for deciding when a new member caught up.</summary>
    public sealed record GetProgress(ReplyTo<GroupProgress> Reply) : ReplicaMessage;

    /// <summary>Internal: open the replica (at the first start at once, after a restart once its backoff has passed).</summary>
    public sealed record Start : ReplicaMessage
    {
        public static readonly Start Instance = new();
    }

    /// <summary>Internal: the logical clock advanced one tick.</summary>
    public sealed record Tick : ReplicaMessage
    {
        public static readonly Tick Instance = new();
    }

    /// <summary>Internal: drain the core's Ready; queued behind pending inputs so they batch into one Ready.</summary>
    public sealed record ProcessReady : ReplicaMessage
    {
        public static readonly ProcessReady Instance = new();
    }

    /// <summary>Internal: a Raft log write started by this replica finished (durable or failed).</summary>
    public sealed record WriteDone : ReplicaMessage
    {
        public static readonly WriteDone Instance = new();
    }

    /// <summary>Internal, from the storage actor: a checkpoint exists at this snapshot; the log before it may go.</summary>
    public sealed record SnapshotTaken(RaftSnapshot Snapshot) : ReplicaMessage;

    /// <summary>Internal, from the storage actor: the snapshot at <see cref="Index"/> replaced the engine (or was refused).</summary>
    public sealed record SnapshotInstalled(ulong Index, bool Succeeded) : ReplicaMessage;

    /// <summary>Internal: streaming a snapshot to a follower finished.</summary>
    public sealed record SnapshotSent(ulong To, bool Succeeded) : ReplicaMessage;

    /// <summary>Internal, from the storage actor: entries up to this index are applied.</summary>
    public sealed record Applied(ulong Index) : ReplicaMessage;
}

/// <summary>What a read asks the state machine for.</summary>
internal abstract record ReadQuery
{
    public sealed record Point(byte[] Key) : ReadQuery;

    /// <summary>
    /// Keys in [Start, End) (null = open), at most <see cref="Limit"/>, ascending. A non-zero <see cref="Epoch"/>
    /// is the shard epoch the caller routed with: a replica at another epoch answers WrongShard instead of a
    /// partial answer.
    /// </summary>
    public sealed record Range(byte[]? Start, byte[]? End, int Limit, ulong Epoch = 0) : ReadQuery;
}

/// <summary>Read consistency as the replica implements it.</summary>
internal enum ReadMode : byte
{
    Linearizable,
    Lease,
    Stale,
}

/// <summary>One piece of a snapshot being streamed from a leader to a follower.</summary>
internal sealed record SnapshotChunkData(
    ulong GroupId,
    ulong From,
    ulong To,
    RaftSnapshot Snapshot,
    string FileName,
    long Offset,
    byte[] Data,
    bool LastOfFile,
    bool LastOfSnapshot,
    ulong Term);

/// <summary>The follower's answer: where to continue (resume point) or that it is complete.</summary>
internal sealed record SnapshotChunkAck(bool Accepted, long NextOffset, bool Complete, string? Reason = null);
