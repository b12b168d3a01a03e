using System.Collections.Concurrent;
using LsmRaft.Actors.Kernel;
using LsmRaft.Actors.Replica;

namespace LsmRaft.Host.Node;

/// <summary>A running replica on this node: its mailbox and (for status without a round trip) its latest actor instance.</summary>
internal sealed class ReplicaHandle(ulong groupId, ActorRef<ReplicaMessage> actorRef)
{
    public ulong GroupId { get; } = groupId;

    public ActorRef<ReplicaMessage> Ref { get; } = actorRef;

    /// <summary>Set by the actor factory, so it follows supervisor restarts.</summary>
    public ReplicaActor? Actor { get; set; }

    public ReplicaStatus? Status => Actor?.Status;
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
