using Akka.Actor;
using Akka.Cluster.Sharding;

namespace LsmRaft.Host.Sharding;

/// <summary>
/// One node's replica region (Cluster.Sharding type <see cref="TypeName"/>): started with the actor system in the
/// Akka.Hosting setup (<see cref="StartRegion"/>), used by the node runtime once it runs (<see cref="Attach"/>). Every
/// replica is an entity <c>"&lt;group&gt;-&lt;replica&gt;"</c> in shard <c>"&lt;node&gt;"</c>, the node holding its disk,
/// placed by <see cref="PinnedReplicaAllocation"/>. Passivation and remember-entities are off (hocon/cluster.conf): the
/// node starts its own replicas from its manifests, and they run until stopped through the region.
/// </summary>
internal sealed class ReplicaSharding
{
    public const string TypeName = "replica";

    private volatile IReplicaHost? _host;
    private IActorRef? _region;

    /// <summary>The node runtime the entities open their replicas on; null before it starts and after it stops.</summary>
    public IReplicaHost? Host => _host;

    /// <summary>The region; set when the actor system starts.</summary>
    public IActorRef Region => _region ?? throw new InvalidOperationException("The replica region has not been started (ReplicaSharding.StartRegion runs when the actor system starts).");

    /// <summary>This node's allocation strategy (it decides only while this node hosts the shard coordinator).</summary>
    public PinnedReplicaAllocation Allocation { get; } = new();

    public void Attach(IReplicaHost host) => _host = host;

    public void Detach() => _host = null;

    /// <summary>Starts the region on <paramref name="system"/> (settings from <c>akka.cluster.sharding</c>).</summary>
    public IActorRef StartRegion(ActorSystem system)
    {
        _region = ClusterSharding.Get(system).Start(TypeName, entityId => ReplicaEntity.Props(entityId, this), ClusterShardingSettings.Create(system),
            new ReplicaMessageExtractor(), Allocation, HandOffReplicaEntity.Instance);
        return _region;
    }
}
