using Akka.Actor.Setup;

namespace LsmRaft.Host.Membership;

/// <summary>
/// The key an actor system's Akka.Remote associations prove (<see cref="AuthenticatedTransport"/>): the cluster secret,
/// or the key derived from GROUP_ID. Passed as an <see cref="Setup"/>, not as HOCON, so that it never appears in the
/// actor system's configuration (which Akka may log).
/// </summary>
internal sealed class PeerKeySetup(byte[] key) : Setup
{
    public byte[] Key { get; } = key;
}
