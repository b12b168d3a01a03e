namespace LsmRaft.Protocol.Monitoring;

/// <summary>
/// One node's own report of itself (<c>GET /v1/node</c>): identity, readiness, every replica it runs with its Raft
/// position and LSM shape, and its recent traffic. The admin UI gathers one from every node (<c>GET /v1/nodes</c>).
/// </summary>
/// <param name="NodeId">The node's id (as in <c>/v1/cluster</c>).</param>
/// <param name="Version">The lsmraft build's informational version.</param>
/// <param name="StartedAt">When this process started its node.</param>
/// <param name="NotReadyReason">Why <c>/readyz</c> answers 503, null when the node is ready.</param>
public sealed record NodeStatus(
    ulong NodeId,
    string Version,
    DateTimeOffset StartedAt,
    double UptimeSeconds,
    string PeerAddress,
    string HttpAddress,
    bool Ready,
    string? NotReadyReason,
    IReadOnlyList<ReplicaReport> Replicas,
    CacheReport BlockCache,
    TrafficSample? Traffic);

/// <summary>
/// A replica as its own node sees it. <see cref="Commit"/> and <see cref="Applied"/> are this replica's; the lag
/// behind the leader is the leader replica's commit index minus this replica's applied index.
/// </summary>
/// <param name="ShardId">The shard (Raft group) id; 0 is the meta group.</param>
/// <param name="Role">leader, follower, candidate, preCandidate or learner.</param>
/// <param name="Leader">The leader this replica knows of, 0 when none.</param>
/// <param name="Quiesced">The group is idle and its timers are stopped (no heartbeats until the next request).</param>
/// <param name="Storage">The replica's LSM engine, null while it is closed (installing a snapshot, stopping).</param>
public sealed record ReplicaReport(
    ulong ShardId,
    string Role,
    ulong Leader,
    ulong Term,
    ulong Commit,
    ulong Applied,
    bool Quiesced,
    IReadOnlyList<ulong> Voters,
    IReadOnlyList<ulong> Learners,
    StorageReport? Storage);

/// <summary>The shape of one replica's LSM tree and its engine counters (since the engine opened).</summary>
/// <param name="CompactionDebtBytes">Bytes compaction must rewrite before every level is within its budget (0 when none is due).</param>
/// <param name="WriteStalls">Writes slowed down or stopped because flushing or L0 compaction fell behind.</param>
public sealed record StorageReport(
    long MemtableBytes,
    int ImmutableMemtables,
    IReadOnlyList<LevelReport> Levels,
    long CompactionDebtBytes,
    long Flushes,
    long Compactions,
    double WriteAmplification,
    long WriteStalls,
    long WriteStallMicros);

/// <summary>One level of an LSM tree: how many tables and bytes it holds.</summary>
public sealed record LevelReport(int Level, int Tables, long Bytes);

/// <summary>The node-wide block cache (shared by every replica's engine): hits and misses since start.</summary>
public sealed record CacheReport(long CapacityBytes, long Hits, long Misses)
{
    /// <summary>Hits / (hits + misses); 0 before the first lookup.</summary>
    public double HitRate => Hits + Misses == 0 ? 0 : Hits / (double)(Hits + Misses);
}
