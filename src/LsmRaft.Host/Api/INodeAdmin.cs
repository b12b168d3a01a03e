using LsmRaft.Protocol.Cluster;

namespace LsmRaft.Host.Api;

/// <summary>
/// Operator commands on cluster membership behind <c>/v1/admin/nodes</c> (see NodeAdminEndpoints): drain a node
/// (<c>lsmraft cluster leave</c>), mark one removed (<c>cluster down</c>), admit one again (<c>cluster join</c>).
/// Failures are <see cref="KvException"/>s as for <see cref="IClusterAdmin"/>: 404 unknown node, 409 refused by the
/// cluster's state, 503 no meta quorum.
/// </summary>
public interface INodeAdmin
{
    /// <summary>
    /// Marks the node draining: the meta group's leader moves each of its replicas to another node (a Raft
    /// membership change per shard), hands its leaderships away, then marks it removed. Idempotent.
    /// </summary>
    Task<DrainProgress> DrainAsync(ulong nodeId, CancellationToken cancellationToken);

    /// <summary>How far the node's drain has come (also for a node that is not draining).</summary>
    Task<DrainProgress> GetDrainAsync(ulong nodeId, CancellationToken cancellationToken);

    /// <summary>Marks the node removed now: its replicas are re-created elsewhere at once. Refused for a live node unless <paramref name="force"/>.</summary>
    Task<ClusterView> DownAsync(ulong nodeId, bool force, CancellationToken cancellationToken);

    /// <summary>Admits the node at <paramref name="peerAddress"/> (host:port) again: clears its drain or removal.</summary>
    Task<ClusterView> AdmitAsync(string peerAddress, CancellationToken cancellationToken);
}
