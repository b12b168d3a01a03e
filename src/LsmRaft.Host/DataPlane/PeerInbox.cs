using Akka.Actor;
using Akka.Remote;
using LsmRaft.Protocol.Peer;

namespace LsmRaft.Host.DataPlane;

/// <summary>
/// The node's receiving end of <see cref="PeerLink"/>, at <c>/user/lsmraft-peer-inbox</c>: hands each
/// <see cref="PeerBatch"/> from a peer to the link (which dispatches it by group), follows Akka.Remote's association
/// events (a lost association wakes quiesced followers through the liveness oracle), and probes peers it has no
/// association with.
/// </summary>
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
        Timers.StartPeriodicTimer(nameof(ProbeTick), ProbeTick.Instance, _probeInterval);
    }

    protected override void PostStop() => Context.System.EventStream.Unsubscribe(Self);

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
