using Akka.Actor;
using LsmRaft.Actors.Replica;
using LsmRaft.Host.Node;

namespace LsmRaft.Host.Sharding;

/// <summary>
/// The node a replica entity runs on, as the entity needs it: the manifest guard and the replica's props
/// (<see cref="Open"/>), and the node's registry of running replicas, which the data plane and the local router deliver
/// through (so no message pays the region's hop).
/// </summary>
internal interface IReplicaHost
{
    /// <summary>
    /// The replica actor's props if this node holds a manifest for exactly replica <paramref name="replica"/> of group
    /// <paramref name="group"/>; otherwise why not (the entity then never acts as a Raft member).
    /// </summary>
    ReplicaOpening Open(ulong group, ulong replica);

    /// <summary>The entity started the replica: deliver to it from now on. False (and nothing registered) when the group already has one here.</summary>
    bool Register(ReplicaHandle handle);

    /// <summary>The entity stopped; its replica actor has terminated.</summary>
    void Unregister(ReplicaHandle handle);

    /// <summary>The entity refused to open the replica, with the reason it logged.</summary>
    void Refused(ulong group, ulong replica, string reason);
}

/// <summary>What <see cref="IReplicaHost.Open"/> answers: the replica actor to start, or why there is none.</summary>
internal abstract record ReplicaOpening
{
    public sealed record Opened(Props Props, ReplicaMonitor Monitor) : ReplicaOpening;

    public sealed record Refused(string Reason) : ReplicaOpening;
}
