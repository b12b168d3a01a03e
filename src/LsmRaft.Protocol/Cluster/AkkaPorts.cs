namespace LsmRaft.Protocol.Cluster;

/// <summary>
/// Where a node's Akka.Remote endpoint listens when AKKA_PORT does not say: a fixed distance from its peer port (PORT),
/// so that every node can compute the Akka port of every PEERS entry and the origin's environment (PORT, PEERS) needs
/// nothing new. A PEERS entry may name a different Akka port as a fourth field (<c>id:host:port:akkaPort</c>).
/// </summary>
public static class AkkaPorts
{
    /// <summary>The distance between PORT and the default Akka port.</summary>
    public const int Offset = 10000;

    /// <summary>PORT + 10000, or PORT − 10000 for peer ports above 55535 (so the result is always a valid port).</summary>
    public static int DefaultFor(int peerPort) => peerPort <= 65535 - Offset ? peerPort + Offset : peerPort - Offset;
}
