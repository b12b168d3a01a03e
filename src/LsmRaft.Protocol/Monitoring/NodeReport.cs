using LsmRaft.Protocol.Cluster;

namespace LsmRaft.Protocol.Monitoring;

/// <summary>A node's entry in <c>GET /v1/nodes</c>: its state in the cluster view and its own status, or why it could not be read.</summary>
public sealed record NodeReport(ulong NodeId, string HttpAddress, NodeState State, NodeStatus? Status, string? Error);

/// <summary>Where a key lives (<c>GET /v1/locate/{key}</c>): its 64-bit ring hash (hex), the shard that owns that point, and its replicas.</summary>
public sealed record KeyLocation(
    string Key,
    string Encoding,
    string Hash,
    ulong ShardId,
    string RangeStart,
    string RangeEnd,
    ulong Epoch,
    IReadOnlyList<ulong> Replicas,
    IReadOnlyList<ulong> Learners,
    ulong? Leader);
