using LsmRaft.Protocol.Cluster;
using LsmRaft.Raft;
using LsmRaft.Actors.Replica;
using LsmRaft.Protocol.Peer;

namespace LsmRaft.Host.Peer;

/// <summary>
/// The node's <see cref="IRaftTransport"/> over TCP: one <see cref="PeerClient"/> per peer, shared by
/// every Raft group on this node (all groups multiplexed and batched per destination).
/// </summary>
internal sealed class PeerTransport : LsmRaft.Host.DataPlane.IDataPlane, IAsyncDisposable
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<ulong, PeerClient> _clients = new();
    private readonly PeerOptions _options;
    private readonly ILogger _logger;

    public PeerTransport(PeerOptions options, ILogger<PeerTransport> logger)
    {
        _options = options;
        _logger = logger;
        foreach (var (id, address) in options.AllPeers)
            AddPeer(id, address);
        options.PeerAdded += AddPeer;
    }

    /// <summary>Starts talking to a peer (idempotent); peers are never dropped while the node runs.</summary>
    public void AddPeer(ulong id, PeerEndpoint address)
    {
        if (id == _options.NodeId || _clients.ContainsKey(id))
            return;
        var client = new PeerClient(_options, id, address, _logger);
        if (!_clients.TryAdd(id, client))
            _ = client.DisposeAsync().AsTask();
    }

    public bool IsConnected(ulong nodeId) => _clients.TryGetValue(nodeId, out var c) && c.Connected;

    public bool Send(ulong groupId, Message message)
    {
        if (!_clients.TryGetValue(ReplicaId.NodeOf(message.To), out var client)) // To is a Raft id: its node is the peer
            return false;
        return RaftWire.IsCoalescable(message)
            ? client.TrySendHeartbeat(RaftWire.ToHeartbeat(groupId, message), message.Type == MessageType.HeartbeatResp)
            : client.TrySend(RaftWire.ToWire(groupId, message));
    }

    public async Task<LsmRaft.Actors.Replica.SnapshotChunkAck> SendSnapshotChunkAsync(SnapshotChunkData chunk, CancellationToken cancellationToken)
    {
        if (!_clients.TryGetValue(ReplicaId.NodeOf(chunk.To), out var client))
            return new LsmRaft.Actors.Replica.SnapshotChunkAck(false, 0, false, $"node {ReplicaId.NodeOf(chunk.To)} is not a peer");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        var response = await client.RequestAsync(id => new Envelope { SnapshotChunk = RaftWire.ToWire(chunk, id) }, timeout.Token).ConfigureAwait(false);
        return RaftWire.FromWire(response.SnapshotChunkAck);
    }

    /// <summary>Forwards a client operation to <paramref name="nodeId"/> and waits for its answer.</summary>
    public async Task<ForwardResponse> ForwardAsync(ulong nodeId, ForwardRequest request, CancellationToken cancellationToken)
    {
        if (!_clients.TryGetValue(nodeId, out var client))
            throw new IOException($"Node {nodeId} is not a peer of this node.");
        var response = await client.RequestAsync(id =>
        {
            request.RequestId = id;
            return new Envelope { ForwardRequest = request };
        }, cancellationToken).ConfigureAwait(false);
        return response.ForwardResponse;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients.Values)
            await client.DisposeAsync().ConfigureAwait(false);
    }
}
