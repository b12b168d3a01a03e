using LsmRaft.Protocol.Cluster;

namespace LsmRaft.Host.Api;

/// <summary>
/// Operator commands behind <c>/v1/admin</c> (see AdminEndpoints). Each completes when the change is committed to the
/// meta group (the data movement it starts may continue afterwards) and returns the cluster view at that point.
/// Failures are <see cref="KvException"/>s: <see cref="ResourceNotFoundException"/> for an unknown shard or node (404),
/// <see cref="OperationConflictException"/> when the cluster's state forbids the operation (409), and
/// <see cref="ShardUnavailableException"/> when the meta group has no quorum (503).
/// </summary>
public interface IClusterAdmin
{
    /// <summary>Splits the shard's hash range at its midpoint into two shards with the same replicas.</summary>
    Task<ClusterView> SplitShardAsync(ulong shardId, CancellationToken cancellationToken);

    /// <summary>Moves the shard's replica on <paramref name="fromNode"/> to <paramref name="toNode"/>: learner, catch up, promote, remove the old one.</summary>
    Task<ClusterView> MoveReplicaAsync(ulong shardId, ulong fromNode, ulong toNode, CancellationToken cancellationToken);

    /// <summary>Makes the shard's replica on <paramref name="toNode"/> its leader.</summary>
    Task<ClusterView> TransferLeaderAsync(ulong shardId, ulong toNode, CancellationToken cancellationToken);
}

/// <summary>404: the named shard or node does not exist.</summary>
public sealed class ResourceNotFoundException(string message) : KvException(message);

/// <summary>409: the cluster's current state forbids the operation (e.g. the target node already holds a replica).</summary>
public sealed class OperationConflictException(string message) : KvException(message);

/// <summary>501: this version of the cluster does not implement the operation (the message says which).</summary>
public sealed class NotSupportedOperationException(string message) : KvException(message);
