using Akka.Cluster.Sharding;

namespace LsmRaft.Host.Sharding;

/// <summary>Entity id <c>"&lt;group&gt;-&lt;replica&gt;"</c>, shard id = the node holding the replica's disk; anything else is not for the region.</summary>
internal sealed class ReplicaMessageExtractor : IMessageExtractor
{
    public string? EntityId(object message) => message is ReplicaEntityCommand command ? command.Entity.ToString() : null;

    public object? EntityMessage(object message) => message;

    public string? ShardId(object message) => message is ReplicaEntityCommand command ? command.ShardId : null;

    /// <summary>The entity id does not name the node; only a command (the hint) does. Akka's own StartEntity is not used.</summary>
    public string ShardId(string entityId, object? messageHint = null) => (messageHint as ReplicaEntityCommand)?.ShardId!;
}
