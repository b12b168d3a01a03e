using Akka.Actor;
using Akka.Event;
using LsmRaft.Host.Node;

namespace LsmRaft.Host.Sharding;

/// <summary>
/// One replica as an entity of the replica region. It opens the replica on <see cref="StartReplicaEntity"/> only if its
/// node holds a manifest for exactly this replica (<see cref="IReplicaHost.Open"/>, the guard that keeps a misplaced
/// entity from ever acting as a Raft member): then it starts the <c>ReplicaActor</c> as its child and registers the
/// child in the node's registry, which every Raft message and client request is delivered through. Otherwise it logs
/// why and stops. It stops on <see cref="StopReplicaEntity"/> or the region's hand-off; its child stops with it (the
/// engine closed in the child's PostStop), then it unregisters and completes the handle's <see cref="ReplicaHandle.Stopped"/>.
/// A replica actor that stopped for good (its restarts spent) leaves the entity up and registered, so the node keeps
/// reporting that failure.
/// </summary>
internal sealed class ReplicaEntity : UntypedActor
{
    private readonly string _entityId;
    private readonly ReplicaSharding _sharding;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private (IReplicaHost Host, ReplicaHandle Handle)? _registered;

    public ReplicaEntity(string entityId, ReplicaSharding sharding)
    {
        _entityId = entityId;
        _sharding = sharding;
    }

    public static Props Props(string entityId, ReplicaSharding sharding) =>
        Akka.Actor.Props.Create(() => new ReplicaEntity(entityId, sharding));

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case StartReplicaEntity start when _registered is null:
                Open(start);
                break;
            case StartReplicaEntity:
                break; // already running
            case StopReplicaEntity or HandOffReplicaEntity:
                Context.Stop(Self);
                break;
            case Terminated:
                break; // the replica stopped for good; the node reports it through its health
            default:
                Unhandled(message);
                break;
        }
    }

    private void Open(StartReplicaEntity start)
    {
        if (!ReplicaEntityId.TryParse(_entityId, out var id) || id != start.Entity)
        {
            Refuse(null, start, $"entity id '{_entityId}' does not name replica {start.Replica} of group {start.Group}");
            return;
        }
        if (_sharding.Host is not { } host)
        {
            Refuse(null, start, "the node is not running (its runtime has not started or has stopped)");
            return;
        }
        ReplicaOpening opening;
        try
        {
            opening = host.Open(id.Group, id.Replica);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException or LsmRaft.Storage.CorruptionException)
        {
            opening = new ReplicaOpening.Refused($"its manifest cannot be read: {e.Message}");
        }
        if (opening is ReplicaOpening.Refused refused)
        {
            Refuse(host, start, refused.Reason);
            return;
        }
        var opened = (ReplicaOpening.Opened)opening;
        var child = Context.ActorOf(opened.Props, "raft");
        Context.Watch(child);
        var handle = new ReplicaHandle(id.Group, id.Replica, child, opened.Monitor, _stopped.Task);
        if (!host.Register(handle))
        {
            Refuse(host, start, $"group {id.Group} already has a running replica on this node");
            return;
        }
        _registered = (host, handle);
    }

    private void Refuse(IReplicaHost? host, StartReplicaEntity start, string reason)
    {
        _log.Warning("Replica {0} of group {1} does not start on node {2}: {3}. It never acts as a Raft member here.", start.Replica, start.Group, start.Node, reason);
        host?.Refused(start.Group, start.Replica, reason);
        Context.Stop(Self);
    }

    protected override void PostStop()
    {
        // Children stop before this runs: the replica actor's PostStop (engine closed, waiters answered) has completed.
        if (_registered is var (host, handle))
            host.Unregister(handle);
        _stopped.TrySetResult();
    }
}
