using Akka.Actor;
using Akka.Remote;
using LsmRaft.Protocol.Peer;

namespace LsmRaft.Host.DataPlane;

/// <summary>
/// The node's receiving end of <see cref="PeerLink"/>, at <c>/user/lsmraft-peer-inbox</c>: hands each
/// <see cref="PeerBatch"/> from a peer to the link (which dispatches it by group), follows Akka.Remote's association
/// events and, in a cluster, the failure detector's unreachable members (either wakes quiesced followers through the
/// liveness oracle), and probes peers it has no association with.
/// </summary>
/// <remarks>
/// A partition that drops packets keeps the association up: Akka.Remote reports nothing until its transport failure
/// detector gives up (minutes). Akka.Cluster's failure detector marks the member unreachable within seconds, so that is
/// when the peer counts as lost; traffic from it (a probe's answer once the partition heals) counts it back.
/// </remarks>
internal sealed class PeerInbox : UntypedActor, IWithTimers
{
    private readonly PeerLink _link;
    private readonly TimeSpan _probeInterval;

    public PeerInbox(PeerLink link, TimeSpan probeInterval)
    {
        _link = link;
        _probeInterval = probeInterval;
    }

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>Local only (PeerLink's actors are never deployed remotely): exempt from serialize-creators.</summary>
    public static Props Props(PeerLink link, TimeSpan probeInterval) =>
        Akka.Actor.Props.Create(() => new PeerInbox(link, probeInterval)).WithDeploy(Deploy.Local);

    protected override void PreStart()
    {
        Context.System.EventStream.Subscribe(Self, typeof(AssociationEvent));
        if (InCluster)
            Akka.Cluster.Cluster.Get(Context.System).Subscribe(Self, Akka.Cluster.ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
                typeof(Akka.Cluster.ClusterEvent.UnreachableMember));
        Timers.StartPeriodicTimer(nameof(ProbeTick), ProbeTick.Instance, _probeInterval);
    }

    protected override void PostStop()
    {
        Context.System.EventStream.Unsubscribe(Self);
        if (InCluster)
            Akka.Cluster.Cluster.Get(Context.System).Unsubscribe(Self);
    }

    /// <summary>Whether the node runs Akka.Cluster (nodes do; the link's own tests run plain remoting).</summary>
    private bool InCluster => ((ExtendedActorSystem)Context.System).Provider is Akka.Cluster.ClusterActorRefProvider;

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case PeerBatch batch:
                _link.Receive(batch);
                break;
            case AssociatedEvent associated:
                _link.OnAssociation(associated.RemoteAddress, up: true);
                break;
            case DisassociatedEvent disassociated:
                _link.OnAssociation(disassociated.RemoteAddress, up: false);
                break;
            case AssociationErrorEvent error:
                _link.OnAssociation(error.RemoteAddress, up: false);
                break;
            case Akka.Cluster.ClusterEvent.UnreachableMember unreachable:
                _link.OnAssociation(unreachable.Member.Address, up: false);
                break;
            case ProbeTick:
                _link.ProbeUnassociated();
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    private sealed class ProbeTick : INoSerializationVerificationNeeded
    {
        public static readonly ProbeTick Instance = new();

        private ProbeTick()
        {
        }
    }
}
