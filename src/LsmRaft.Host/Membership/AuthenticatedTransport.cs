using Akka.Actor;
using Akka.Event;
using Akka.Remote.Transport;

namespace LsmRaft.Host.Membership;

/// <summary>
/// A transport adapter directly above Akka.Remote's TCP driver: a new connection reaches Akka (its association
/// handshake, cluster gossip, everything) only after both ends proved the cluster key (<see cref="AkkaHandshake"/>).
/// The key comes from <see cref="PeerKeySetup"/>: the cluster secret, or the key derived from GROUP_ID, the same key
/// the Kestrel peer transport proves. Refusals are logged and published as <see cref="AssociationRefused"/>.
/// It authenticates; it does not encrypt (as the Kestrel peer transport does not): run on a private network.
/// </summary>
internal sealed class AuthenticatedTransport : AbstractTransportAdapter
{
    /// <summary>The adapter's scheme: addresses read <c>akka.lsmauth.tcp://</c>.</summary>
    public const string Scheme = "lsmauth";

    /// <summary>A connection that has not completed the handshake by then is closed.</summary>
    public static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(10);

    private static readonly SchemeAugmenter Augmenter = new(Scheme);

    public AuthenticatedTransport(Akka.Remote.Transport.Transport wrappedTransport, ExtendedActorSystem system) : base(wrappedTransport)
    {
        var setup = system.Settings.Setup.Get<PeerKeySetup>();
        if (!setup.HasValue)
            throw new InvalidOperationException($"The '{Scheme}' Akka.Remote adapter needs the cluster key: create the actor system with a {nameof(PeerKeySetup)}.");
        ActorSystem = system;
        DiallerKey = AkkaHandshake.SideKey(setup.Value.Key, dialler: true);
        ListenerKey = AkkaHandshake.SideKey(setup.Value.Key, dialler: false);
        Log = Logging.GetLogger(system, typeof(AuthenticatedTransport));
    }

    public ExtendedActorSystem ActorSystem { get; }

    public byte[] DiallerKey { get; }

    public byte[] ListenerKey { get; }

    public ILoggingAdapter Log { get; }

    protected override SchemeAugmenter SchemeAugmenter => Augmenter;

    protected override Task<IAssociationEventListener> InterceptListen(Address listenAddress, Task<IAssociationEventListener> listenerTask) =>
        Task.FromResult<IAssociationEventListener>(new InboundListener(this, listenerTask));

    protected override void InterceptAssociate(Address remoteAddress, TaskCompletionSource<AssociationHandle> statusPromise)
    {
        WrappedTransport.Associate(remoteAddress).ContinueWith(connected =>
        {
            if (connected.IsCompletedSuccessfully)
                new AuthenticatedHandle(this, connected.Result, dialler: true, handle => statusPromise.TrySetResult(handle), e => statusPromise.TrySetException(e)).Start();
            else
                statusPromise.TrySetException(connected.Exception?.InnerException ?? new InvalidAssociationException($"Connecting to {remoteAddress} was cancelled."));
        }, TaskContinuationOptions.ExecuteSynchronously);
    }

    /// <summary>Commands for adapters above this one (the test throttler's) pass through to the driver below.</summary>
    public override Task<bool> ManagementCommand(object message) => WrappedTransport.ManagementCommand(message);

    /// <summary>Refuses a connection: logged once, published for monitoring and tests.</summary>
    public void Refused(string remote, bool inbound, string reason)
    {
        Log.Warning("Refused an Akka.Remote connection {0} {1}: {2}", inbound ? "from" : "to", remote, reason);
        ActorSystem.EventStream.Publish(new AssociationRefused(remote, inbound, reason));
    }

    /// <summary>Authenticates each inbound connection before Akka's own listener hears of it.</summary>
    private sealed class InboundListener(AuthenticatedTransport transport, Task<IAssociationEventListener> upstream) : IAssociationEventListener
    {
        public void Notify(IAssociationEvent ev)
        {
            if (ev is not InboundAssociation inbound)
                return;
            new AuthenticatedHandle(transport, inbound.Association, dialler: false,
                handle => upstream.ContinueWith(listener => listener.Result.Notify(new InboundAssociation(handle)), TaskContinuationOptions.ExecuteSynchronously),
                _ => { }).Start();
        }
    }
}
