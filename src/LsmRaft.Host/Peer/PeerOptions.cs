using LsmRaft.Actors.Replica;
using LsmRaft.Protocol.Peer;

namespace LsmRaft.Host.Peer;

/// <summary>Who this node is on the peer network and whom it may talk to.</summary>
internal sealed record PeerOptions(ulong NodeId, string ClusterId, byte[] Secret, IReadOnlyDictionary<ulong, PeerEndpoint> Peers)
{
    public int MaxFrameBytes { get; init; } = 64 * 1024 * 1024;

    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Outgoing messages queued per peer before new Raft messages are dropped (Raft retransmits).</summary>
    public int SendQueueCapacity { get; init; } = 16 * 1024;

    /// <summary>This node's HTTP API address, announced to peers in the handshake.</summary>
    public string HttpAddress { get; init; } = "";

    /// <summary>HTTP addresses peers announced in handshakes (either direction), by node id.</summary>
    public System.Collections.Concurrent.ConcurrentDictionary<ulong, string> PeerHttpAddresses { get; } = new();
}

/// <summary>A peer's address for the peer protocol.</summary>
internal sealed record PeerEndpoint(string Host, int Port)
{
    public override string ToString() => $"{Host}:{Port}";
}

/// <summary>Where inbound peer traffic goes: the node's replicas and its request router.</summary>
internal interface IPeerDispatcher
{
    void DeliverRaft(ulong groupId, LsmRaft.Actors.Raft.Message message);

    Task<LsmRaft.Actors.Replica.SnapshotChunkAck> HandleSnapshotChunkAsync(SnapshotChunkData chunk, CancellationToken cancellationToken);

    Task<ForwardResponse> HandleForwardAsync(ForwardRequest request, CancellationToken cancellationToken);
}
