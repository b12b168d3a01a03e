using System.Collections.Concurrent;
using Akka.Actor;
using LsmRaft.Actors.Replica;

namespace LsmRaft.Host.Node;

/// <summary>A running replica on this node: its Raft id, its actor and its monitor (status without a round trip, the in-flight bound).</summary>
internal sealed class ReplicaHandle(ulong groupId, ulong replicaId, IActorRef actor, ReplicaMonitor monitor)
{
    public ulong GroupId { get; } = groupId;

    /// <summary>The replica's Raft id (<see cref="LsmRaft.Protocol.Cluster.ReplicaId"/>), as its manifest names it.</summary>
    public ulong ReplicaId { get; } = replicaId;

    /// <summary>The replica actor (the same across its restarts).</summary>
    public IActorRef Ref { get; } = actor;

    public ReplicaMonitor Monitor { get; } = monitor;

    public ReplicaStatus? Status => Monitor.Status;
}

/// <summary>The replicas this node runs, by group id.</summary>
internal sealed class ReplicaRegistry
{
    private readonly ConcurrentDictionary<ulong, ReplicaHandle> _replicas = new();

    public bool TryGet(ulong groupId, out ReplicaHandle handle) => _replicas.TryGetValue(groupId, out handle!);

    public void Add(ReplicaHandle handle)
    {
        if (!_replicas.TryAdd(handle.GroupId, handle))
            throw new InvalidOperationException($"Group {handle.GroupId} already has a replica on this node.");
    }

    public bool Remove(ulong groupId, out ReplicaHandle handle) => _replicas.TryRemove(groupId, out handle!);

    public IReadOnlyCollection<ReplicaHandle> All => _replicas.Values.ToArray();
}
