namespace LsmRaft.Host.Config;

/// <summary>
/// What carries Raft messages, coalesced heartbeats and forwarded client operations between nodes
/// (<c>LSMRAFT_DATA_PLANE</c>); snapshot chunks always travel over the peer port (docs/peer-protocol.md).
/// </summary>
public enum DataPlaneKind
{
    /// <summary>LsmRaft's own framed TCP transport on <c>PORT</c>, served by Kestrel: the default, kept by the issue-11 gate (docs/benchmarks.md).</summary>
    Kestrel,

    /// <summary>PeerLink over the node's Akka.Remote association on the Akka port.</summary>
    Akka,
}
