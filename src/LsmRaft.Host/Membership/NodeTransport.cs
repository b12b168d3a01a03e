using Akka.Actor;
using Akka.Remote.Transport;

namespace LsmRaft.Host.Membership;

/// <summary>
/// The Akka.Remote transport of a node (HOCON <c>akka.remote.dot-netty.tcp.transport-class</c>, hocon/cluster.conf):
/// Akka's DotNetty TCP driver under <see cref="AuthenticatedTransport"/>, and, when <c>lsmraft.remote.test-throttler</c>
/// is on (tests only), Akka's throttler adapter on top, so that tests can blackhole links (<c>SetThrottle</c> through
/// <see cref="ManagementCommand"/>). Built here rather than through <c>akka.remote.adapters</c>, whose type names
/// Akka.NET 1.5.75 reads back with their HOCON quotes (Type.GetType then fails on them).
/// </summary>
public sealed class NodeTransport : Akka.Remote.Transport.Transport
{
    /// <summary>HOCON switch that puts the throttler adapter on top (tests).</summary>
    public const string TestThrottlerPath = "lsmraft.remote.test-throttler";

    /// <summary>Akka.Remote's DotNetty TCP driver (its default transport-class).</summary>
    private const string DriverClass = "Akka.Remote.Transport.DotNetty.TcpTransport, Akka.Remote";

    private readonly Akka.Remote.Transport.Transport _inner;

    public NodeTransport(ActorSystem actorSystem, Akka.Configuration.Config config)
    {
        var system = (ExtendedActorSystem)actorSystem;
        // Akka's TCP driver is internal: created the way Akka.Remote creates any transport-class, by name.
        var driver = (Akka.Remote.Transport.Transport)Activator.CreateInstance(Type.GetType(DriverClass, throwOnError: true)!, system, config)!;
        Akka.Remote.Transport.Transport inner = new AuthenticatedTransport(driver, system);
        if (system.Settings.Config.GetBoolean(TestThrottlerPath, false))
            inner = new ThrottleTransportAdapter(inner, system);
        _inner = inner;
        System = system;
        Config = config;
    }

    public override string SchemeIdentifier => _inner.SchemeIdentifier;

    public override long MaximumPayloadBytes => _inner.MaximumPayloadBytes;

    public override Task<(Address, TaskCompletionSource<IAssociationEventListener>)> Listen() => _inner.Listen();

    public override bool IsResponsibleFor(Address remote) => _inner.IsResponsibleFor(remote);

    public override Task<AssociationHandle> Associate(Address remoteAddress) => _inner.Associate(remoteAddress);

    public override Task<bool> Shutdown() => _inner.Shutdown();

    public override Task<bool> ManagementCommand(object message) => _inner.ManagementCommand(message);
}
