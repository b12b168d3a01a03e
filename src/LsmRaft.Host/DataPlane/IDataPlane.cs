using LsmRaft.Actors.Replica;
using LsmRaft.Protocol.Peer;

namespace LsmRaft.Host.DataPlane;

/// <summary>
/// What carries a node's traffic to other nodes: Raft messages (<see cref="IRaftTransport"/>, snapshot chunks
/// included) and forwarded client operations. Two implementations, chosen by <c>LSMRAFT_DATA_PLANE</c>:
/// the Kestrel peer transport (<see cref="Peer.PeerTransport"/>, the default) and <see cref="PeerLink"/> over Akka.Remote.
/// </summary>
internal interface IDataPlane : IRaftTransport
{
    /// <summary>Whether this node currently has a working connection (association) to <paramref name="nodeId"/>.</summary>
    bool IsConnected(ulong nodeId);

    /// <summary>Forwards a client operation to <paramref name="nodeId"/> and waits for its answer; IOException when the peer is lost.</summary>
    Task<ForwardResponse> ForwardAsync(ulong nodeId, ForwardRequest request, CancellationToken cancellationToken);
}
