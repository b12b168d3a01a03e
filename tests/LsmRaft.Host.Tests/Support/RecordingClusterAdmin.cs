using LsmRaft.Host.Api;
using LsmRaft.Protocol.Cluster;

namespace LsmRaft.Host.Tests.Support;

/// <summary>
/// An <see cref="IClusterAdmin"/> that applies operator commands to an in-memory <see cref="ClusterView"/> (the way
/// the meta group would, minus replication) and records each call.
/// </summary>
internal sealed class RecordingClusterAdmin(EngineKvService service) : IClusterAdmin
{
    public List<string> Calls { get; } = [];

    public Task<ClusterView> SplitShardAsync(ulong shardId, CancellationToken cancellationToken)
    {
        Calls.Add($"split {shardId}");
        var view = service.View;
        var shard = Find(view, shardId);
        ulong middle = shard.RangeStart + (shard.RangeEnd - shard.RangeStart) / 2;
        ulong newId = view.Shards.Max(s => s.Id) + 1;
        var shards = view.Shards.Where(s => s.Id != shardId)
            .Append(shard with { RangeEnd = middle, Epoch = shard.Epoch + 1 })
            .Append(shard with { Id = newId, RangeStart = middle + 1, Epoch = shard.Epoch + 1 })
            .ToList();
        return Task.FromResult(service.View = view with { MapVersion = view.MapVersion + 1, Shards = shards });
    }

    public Task<ClusterView> MoveReplicaAsync(ulong shardId, ulong fromNode, ulong toNode, CancellationToken cancellationToken)
    {
        Calls.Add($"move {shardId} {fromNode}->{toNode}");
        var view = service.View;
        var shard = Find(view, shardId);
        if (!shard.Replicas.Contains(fromNode))
            throw new OperationConflictException($"Node {fromNode} holds no replica of shard {shardId}.");
        if (shard.Replicas.Contains(toNode))
            throw new OperationConflictException($"Node {toNode} already holds a replica of shard {shardId}.");
        if (view.Nodes.All(n => n.Id != toNode))
            throw new ResourceNotFoundException($"Node {toNode} does not exist.");
        var moved = shard with { Replicas = shard.Replicas.Select(r => r == fromNode ? toNode : r).ToList(), Epoch = shard.Epoch + 1 };
        return Task.FromResult(service.View = view with { MapVersion = view.MapVersion + 1, Shards = view.Shards.Select(s => s.Id == shardId ? moved : s).ToList() });
    }

    public Task<ClusterView> TransferLeaderAsync(ulong shardId, ulong toNode, CancellationToken cancellationToken)
    {
        Calls.Add($"transfer {shardId} ->{toNode}");
        var view = service.View;
        var shard = Find(view, shardId);
        if (!shard.Replicas.Contains(toNode))
            throw new OperationConflictException($"Node {toNode} holds no replica of shard {shardId}.");
        return Task.FromResult(service.View = view with { Shards = view.Shards.Select(s => s.Id == shardId ? s with { Leader = toNode } : s).ToList() });
    }

    private static ShardInfo Find(ClusterView view, ulong shardId) =>
        view.Shards.FirstOrDefault(s => s.Id == shardId) ?? throw new ResourceNotFoundException($"Shard {shardId} does not exist.");
}
