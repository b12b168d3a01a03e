using Akka.Actor;
using Akka.Configuration;
using LsmRaft.Host.Node;

namespace LsmRaft.Host.Tests.DataPlane;

/// <summary>
/// Actor systems with Akka.Remote on loopback (port 0: the OS picks a free one) for the data-plane tests, built from the
/// node's hocon/lsmraft.conf (so the serializer bindings under test are the shipped ones) with every local and remote
/// message checked for serializability (<c>serialize-messages</c>). <c>serialize-creators</c> stays off here: Akka.Remote
/// 1.5.75's own endpoint actors fail that check, so no association ever forms with it on (PeerLink's actors are checked
/// in a system without remoting, <see cref="PeerLinkSerializerTests"/>).
/// </summary>
internal static class RemoteSystems
{
    public const string Verification = """
        akka.actor.serialize-messages = on
        """;

    /// <param name="extraHocon">Settings that override the test defaults.</param>
    public static ActorSystem Start(string extraHocon = "")
    {
        var config = ConfigurationFactory.ParseString(Verification + """

            akka.actor.provider = remote
            akka.remote.dot-netty.tcp {
              hostname = 127.0.0.1
              port = 0
              maximum-frame-size = 2MiB
              send-buffer-size = 4MiB
              receive-buffer-size = 4MiB
            }
            akka.loglevel = WARNING
            akka.stdout-loglevel = WARNING
            akka.remote.log-remote-lifecycle-events = off
            """ + "\n" + extraHocon).WithFallback(ConfigurationFactory.ParseString(File.ReadAllText(AkkaConfig.MainFile)));
        return ActorSystem.Create(AkkaConfig.SystemName(LsmRaft.Host.Config.NodeConfig.DefaultGroupId), config);
    }
}
