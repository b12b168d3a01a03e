namespace LsmRaft.Host.Sharding;

/// <summary>
/// What the replica region carries: a start or a stop of one replica entity, addressed by the node that holds the
/// replica's disk (the shard) and the entity id. They cross nodes when sent from another node's region (bound to
/// <see cref="ReplicaEntitySerializer"/>). Raft traffic and client requests never travel through the region: they go
/// to the replica's actor as registered in the node's ReplicaRegistry.
/// </summary>
internal abstract record ReplicaEntityCommand(ulong Node, ulong Group, ulong Replica)
{
    public ReplicaEntityId Entity => new(Group, Replica);

    public string ShardId => ReplicaEntityId.ShardOf(Node);
}

/// <summary>Start the replica (the entity opens it if its node holds a manifest for exactly this replica); idempotent.</summary>
internal sealed record StartReplicaEntity(ulong Node, ulong Group, ulong Replica) : ReplicaEntityCommand(Node, Group, Replica);

/// <summary>Stop the replica (retirement, node shutdown): the entity stops itself, its replica actor with it.</summary>
internal sealed record StopReplicaEntity(ulong Node, ulong Group, ulong Replica) : ReplicaEntityCommand(Node, Group, Replica);

/// <summary>The region's hand-off stop message: the shard is handed off (its node leaves the cluster), the entity stops.</summary>
internal sealed class HandOffReplicaEntity
{
    public static readonly HandOffReplicaEntity Instance = new();

    private HandOffReplicaEntity()
    {
    }
}
