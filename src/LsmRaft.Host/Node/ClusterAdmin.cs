using LsmRaft.Host.Api;
using LsmRaft.Protocol.Cluster;

namespace LsmRaft.Host.Node;

/// <summary>
/// Operator commands of this version: leadership transfer works on any shard from any node; shard split and
/// replica moves need the meta group to own the shard map, which this version does not do yet, so they
/// answer 501 with that reason rather than pretending.
/// </summary>
internal sealed class ClusterAdmin(RequestRouter router, Func<ClusterView> view) : IClusterAdmin
{
    public Task<ClusterView> SplitShardAsync(ulong shardId, CancellationToken cancellationToken) =>
        throw new NotSupportedOperationException($"Splitting shard {shardId} is not available in this version: the shard map is fixed at bootstrap (see docs/architecture.md, departure 3).");

    public Task<ClusterView> MoveReplicaAsync(ulong shardId, ulong fromNode, ulong toNode, CancellationToken cancellationToken) =>
        throw new NotSupportedOperationException($"Moving shard {shardId}'s replica from node {fromNode} to node {toNode} is not available in this version: the shard map is fixed at bootstrap (see docs/architecture.md, departure 3).");

    public async Task<ClusterView> TransferLeaderAsync(ulong shardId, ulong toNode, CancellationToken cancellationToken)
    {
        var shard = view().Shards.FirstOrDefault(s => s.Id == shardId)
            ?? throw new ResourceNotFoundException($"Shard {shardId} does not exist; GET /v1/cluster lists the shards.");
        if (!shard.Replicas.Contains(toNode))
            throw new OperationConflictException($"Node {toNode} holds no voting replica of shard {shardId} (replicas: {string.Join(", ", shard.Replicas)}).");
        await router.TransferLeaderAsync(shard, toNode, cancellationToken).ConfigureAwait(false);
        return view();
    }
}
