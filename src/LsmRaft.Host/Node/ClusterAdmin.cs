using LsmRaft.Host.Api;
using LsmRaft.Protocol.Cluster;
using LsmRaft.Protocol.Peer;

namespace LsmRaft.Host.Node;

/// <summary>
/// Operator commands, served by any node: split a shard, move a replica, transfer leadership. Each goes
/// through the shard's Raft group (the shard's leader, wherever it is) and the meta group's shard map.
/// </summary>
internal sealed class ClusterAdmin(RequestRouter router, ShardMapStore maps, ReplicaMover mover, Func<ClusterView> view) : IClusterAdmin
{
    /// <summary>Longest a move may take (snapshot transfer and catch-up included) before the request answers 503; re-issuing it continues the move.</summary>
    public static readonly TimeSpan MoveTimeout = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Splits a shard at the middle of its hash range: reserves the new shard's id in the map, has the shard's
    /// Raft group apply the split (every replica creates the new shard from the same entry), then records both
    /// shards in the map. Writes continue throughout: a write for the moved half that reaches the old shard
    /// after the split entry is refused there (STALE_EPOCH) and re-routed by the new map.
    /// </summary>
    public async Task<ClusterView> SplitShardAsync(ulong shardId, CancellationToken cancellationToken)
    {
        await maps.RefreshAsync(stale: false, cancellationToken).ConfigureAwait(false);
        var shard = maps.Lookup.Shards.FirstOrDefault(s => s.Id == shardId)
            ?? throw new ResourceNotFoundException($"Shard {shardId} does not exist; GET /v1/cluster lists the shards.");
        if (shard.RangeStart == shard.RangeEnd)
            throw new OperationConflictException($"Shard {shardId} owns a single point of the hash ring and cannot be split.");
        ulong childId = 0;
        await maps.UpdateAsync(map =>
        {
            childId = map.NextShardId;
            return map with { NextShardId = childId + 1 };
        }, cancellationToken).ConfigureAwait(false);
        ulong splitAt = shard.RangeStart + (shard.RangeEnd - shard.RangeStart) / 2 + 1;
        var op = new SplitOp { ChildId = childId, SplitAt = splitAt, ExpectedStart = shard.RangeStart, ExpectedEnd = shard.RangeEnd, ExpectedEpoch = shard.Epoch };
        try
        {
            await router.SplitAsync(shard, op, cancellationToken).ConfigureAwait(false);
        }
        catch (StaleShardException e)
        {
            throw new OperationConflictException($"Shard {shardId} changed while the split was prepared ({e.Message}); read GET /v1/cluster and retry.");
        }
        await maps.RecordSplitAsync(shardId, childId, (shard.RangeStart, splitAt - 1, shard.Epoch + 1), (splitAt, shard.RangeEnd, shard.Epoch + 1), cancellationToken).ConfigureAwait(false);
        return view();
    }

    public async Task<ClusterView> MoveReplicaAsync(ulong shardId, ulong fromNode, ulong toNode, CancellationToken cancellationToken)
    {
        await maps.RefreshAsync(stale: false, cancellationToken).ConfigureAwait(false);
        var shard = maps.Lookup.Shards.FirstOrDefault(s => s.Id == shardId)
            ?? throw new ResourceNotFoundException($"Shard {shardId} does not exist; GET /v1/cluster lists the shards.");
        if (view().Nodes.All(n => n.Id != toNode))
            throw new ResourceNotFoundException($"Node {toNode} is not a member of the cluster; GET /v1/cluster lists the nodes.");
        if (!shard.Replicas.Contains(fromNode))
            throw new OperationConflictException($"Node {fromNode} holds no replica of shard {shardId} (replicas: {string.Join(", ", shard.Replicas)}).");
        if (shard.Replicas.Contains(toNode))
            throw new OperationConflictException($"Node {toNode} already holds a replica of shard {shardId}.");
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(MoveTimeout);
        try
        {
            await mover.MoveAsync(shardId, fromNode, toNode, deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ShardUnavailableException(shardId, $"the move from node {fromNode} to node {toNode} did not finish within {MoveTimeout.TotalMinutes:0} minutes; issue it again to continue");
        }
        return view();
    }

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
