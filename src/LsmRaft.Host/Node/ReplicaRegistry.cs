using System.Collections.Concurrent;
using LsmRaft.Actors.Kernel;
using LsmRaft.Actors.Replica;

namespace LsmRaft.Host.Node;

/// <summary>A running replica on this node: its mailbox and (for status without a round trip) its latest actor instance.</summary>
internal sealed class ReplicaHandle(ulong groupId)
{
    private ReplicaActor? _actor;

    public ulong GroupId { get; } = groupId;

    /// <summary>The replica's mailbox; set once, right after the spawn, before the handle is registered.</summary>
    public ActorRef<ReplicaMessage> Ref { get; set; } = null!;

    /// <summary>Set by the actor factory (also on supervisor restarts), possibly on another thread.</summary>
    public ReplicaActor? Actor
    {
        get => Volatile.Read(ref _actor);
        set => Volatile.Write(ref _actor, value);
    }

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
