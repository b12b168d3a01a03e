using LsmRaft.Actors.Replica;
using LsmRaft.Host.Metrics;
using LsmRaft.Protocol.Peer;

namespace LsmRaft.Host.Peer;

/// <summary>Who this node is on the peer network and whom it may talk to.</summary>
internal sealed record PeerOptions(ulong NodeId, string ClusterId, byte[] Secret, IReadOnlyDictionary<ulong, PeerEndpoint> Peers)
{
    public int MaxFrameBytes { get; init; } = 64 * 1024 * 1024;

    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Outgoing messages queued per peer before new Raft messages are dropped (Raft retransmits).</summary>
    public int SendQueueCapacity { get; init; } = 16 * 1024;

    /// <summary>Counts messages and bytes per peer; null: not counted.</summary>
    public TransportMetrics? Metrics { get; init; }

    /// <summary>This node's HTTP API address, announced to peers in the handshake.</summary>
    public string HttpAddress { get; init; } = "";

    /// <summary>HTTP addresses peers announced in handshakes (either direction), by node id.</summary>
    public System.Collections.Concurrent.ConcurrentDictionary<ulong, string> PeerHttpAddresses { get; } = new();

    /// <summary>Nodes that joined after this node started (from a joining handshake or the node registry), by id.</summary>
    public System.Collections.Concurrent.ConcurrentDictionary<ulong, PeerEndpoint> Joined { get; } = new();

    /// <summary>Set on a node started with --join: its handshakes ask to be admitted and announce <see cref="OwnPeerAddress"/>.</summary>
    public bool Joining { get; init; }

    /// <summary>This node's peer address (host:port) as other nodes should dial it.</summary>
    public string OwnPeerAddress { get; init; } = "";

    /// <summary>Node names for logs (see <see cref="LsmRaft.Host.Node.NodeNames"/>).</summary>
    public LsmRaft.Host.Node.NodeNames Names { get; init; } = new();

    /// <summary>Every node this node has admitted by a handshake, kept in DATA_DIR (answers <c>HelloAck.seen_before</c>); null: not kept.</summary>
    public SeenPeers? Seen { get; init; }

    /// <summary>The meta group's voters, told to joining nodes.</summary>
    public IReadOnlyList<ulong> MetaVoters { get; init; } = [];

    /// <summary>Raised when a node is admitted by a joining handshake or learned from the registry.</summary>
    public event Action<ulong, PeerEndpoint>? PeerAdded;

    /// <summary>Raised (node id, connected) when this node's connection to a peer comes up or goes down.</summary>
    public event Action<ulong, bool>? ConnectionChanged;

    internal void OnConnectionChanged(ulong nodeId, bool connected) => ConnectionChanged?.Invoke(nodeId, connected);

    /// <summary>Every peer this node knows: those it started with and those that joined since.</summary>
    public IEnumerable<KeyValuePair<ulong, PeerEndpoint>> AllPeers => Peers.Concat(Joined.Where(j => !Peers.ContainsKey(j.Key)));

    public bool IsKnown(ulong nodeId) => Peers.ContainsKey(nodeId) || Joined.ContainsKey(nodeId);

    /// <summary>Records a peer that joined; true when it was new.</summary>
    public bool AddJoined(ulong nodeId, PeerEndpoint endpoint)
    {
        if (nodeId == NodeId || Peers.ContainsKey(nodeId) || !Joined.TryAdd(nodeId, endpoint))
            return false;
        PeerAdded?.Invoke(nodeId, endpoint);
        return true;
    }
}

/// <summary>A peer's address for the peer protocol.</summary>
internal sealed record PeerEndpoint(string Host, int Port)
{
    public override string ToString() => $"{Host}:{Port}";

    /// <summary>Parses <c>host:port</c> (port 1-65535); null when malformed.</summary>
    public static PeerEndpoint? TryParse(string text)
    {
        int colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text.AsSpan(colon + 1), out int port) || port is < 1 or > 65535)
            return null;
        return new PeerEndpoint(text[..colon], port);
    }
}

/// <summary>Where inbound peer traffic goes: the node's replicas and its request router.</summary>
internal interface IPeerDispatcher
{
    void DeliverRaft(ulong groupId, LsmRaft.Raft.Message message);

    Task<LsmRaft.Actors.Replica.SnapshotChunkAck> HandleSnapshotChunkAsync(SnapshotChunkData chunk, CancellationToken cancellationToken);

    Task<ForwardResponse> HandleForwardAsync(ForwardRequest request, CancellationToken cancellationToken);
}
