namespace LsmRaft.Protocol.Cluster;

/// <summary>
/// A node in <see cref="ClusterStatus"/>: the cluster view's entry joined with the node's own report (<c>GET /v1/node</c>).
/// <see cref="Version"/>, <see cref="StartedAt"/> and <see cref="UptimeSeconds"/> are null when the node did not
/// answer; <see cref="ReportError"/> then says why.
/// </summary>
/// <param name="Replicas">Shard replicas (voters and learners) the shard map places on the node.</param>
/// <param name="Leads">Shards whose leader the node is.</param>
/// <param name="MetaVoter">The node votes in the meta group.</param>
/// <param name="MetaLeader">The node leads the meta group (and so runs placement: repair, drain, rebalancing).</param>
public sealed record NodeSummary(
    ulong Id,
    string PeerAddress,
    string HttpAddress,
    NodeState State,
    DateTimeOffset? LastHeartbeat,
    int Replicas,
    int Leads,
    bool MetaVoter,
    bool MetaLeader,
    string? Version,
    DateTimeOffset? StartedAt,
    double? UptimeSeconds,
    string? ReportError);

/// <summary>One replica of a shard in <see cref="ShardStats"/>; the figures are null when its node did not report it.</summary>
/// <param name="Role">As in <c>GET /v1/node</c> (leader, follower, candidate, preCandidate, learner), or <c>unreported</c>.</param>
/// <param name="Lag">Entries the replica has yet to apply of what its leader has committed (0 on the leader).</param>
/// <param name="SizeBytes">Bytes of the replica's memtable and LSM tables (all levels), null while its engine is closed.</param>
public sealed record ReplicaStats(ulong Node, string Role, ulong? Term, ulong? Commit, ulong? Applied, ulong? Lag, long? SizeBytes);

/// <summary>
/// A shard with its replicas' Raft state. <see cref="Term"/>, <see cref="Commit"/>, <see cref="Applied"/> and
/// <see cref="SizeBytes"/> are the leader's; <see cref="Lag"/> is the largest of the replicas'. Each node reports
/// at its own moment, so the lag is approximate (a busy shard shows a small lag even when healthy).
/// </summary>
public sealed record ShardStats(
    ulong Id,
    ulong RangeStart,
    ulong RangeEnd,
    ulong Epoch,
    ulong? Leader,
    IReadOnlyList<ulong> Replicas,
    IReadOnlyList<ulong> Learners,
    ulong? Term,
    ulong? Commit,
    ulong? Applied,
    ulong? Lag,
    long? SizeBytes,
    IReadOnlyList<ReplicaStats> ReplicaStats);

/// <summary>The cluster with every node's report joined in: <c>GET /v1/cluster/status</c>.</summary>
/// <param name="At">When the answering node assembled it.</param>
public sealed record ClusterStatus(string ClusterId, ulong MapVersion, DateTimeOffset At, IReadOnlyList<NodeSummary> Nodes, IReadOnlyList<ShardStats> Shards);

/// <summary>
/// How far a node's drain (<c>lsmraft cluster leave</c>) has come: <c>GET/POST /v1/admin/nodes/{id}/drain</c>.
/// The drain is kept in the meta group and carried out by the node leading it, so it continues across restarts;
/// <see cref="Done"/> once the node holds no replica and no leadership and is marked <see cref="NodeState.Removed"/>.
/// </summary>
/// <param name="ShardsLeft">Shards with a replica (voter or learner) still on the node.</param>
/// <param name="LeadershipsLeft">Groups (shards and the meta group) the node still leads.</param>
/// <param name="MetaVoter">The node keeps its meta-group vote after leaving (the meta group's voters are fixed at bootstrap).</param>
/// <param name="Blocked">Why the drain cannot continue now (no node can take a replica), or null.</param>
public sealed record DrainProgress(ulong Node, NodeState State, IReadOnlyList<ulong> ShardsLeft, int LeadershipsLeft, bool MetaVoter, bool Done, string? Blocked);
