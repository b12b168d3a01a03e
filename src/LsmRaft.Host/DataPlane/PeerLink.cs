using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Remote;
using LsmRaft.Actors.Replica;
using LsmRaft.Host.Peer;
using LsmRaft.Protocol.Cluster;
using LsmRaft.Protocol.Peer;
using LsmRaft.Raft;
using SnapshotChunkAck = LsmRaft.Actors.Replica.SnapshotChunkAck;

namespace LsmRaft.Host.DataPlane;

/// <summary>
/// The node's data plane over Akka.Remote (<c>LSMRAFT_DATA_PLANE=akka</c>; AKKA.md §6, option A): Raft messages,
/// coalesced heartbeats, forwarded client operations and their answers go to a per-destination
/// <see cref="PeerOutbox"/>, flushed as one <see cref="PeerBatch"/> per flush to the peer's <see cref="PeerInbox"/>,
/// which dispatches them by group. Snapshot chunks stay on the Kestrel transport (they would hold heartbeats behind
/// megabytes on the one association a node pair shares). At-most-once like Akka.Remote: nothing is resent here.
/// </summary>
/// <remarks>
/// A peer counts as connected from an association event or a batch received from it, until Akka.Remote reports the
/// association lost or failed, or the cluster's failure detector marks it unreachable (a partition that drops packets
/// leaves the association up); that is what the replicas' liveness oracle reads, so quiesced followers of a lost
/// node's leaders wake. Peers without an association are probed every <see cref="PeerLinkOptions.ProbeInterval"/>.
/// </remarks>
internal sealed class PeerLink : IDataPlane, IAsyncDisposable
{
    /// <summary>The inbox's name under <c>/user</c>, the same on every node.</summary>
    public const string InboxName = "lsmraft-peer-inbox";

    private readonly ExtendedActorSystem _system;
    private readonly PeerLinkOptions _options;
    private readonly IPeerDispatcher _dispatcher;
    private readonly IRaftTransport _snapshots;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<ulong, PeerOutbox> _outboxes = new();
    private readonly ConcurrentDictionary<Address, PeerOutbox> _byAddress = new();
    private readonly List<IActorRef> _actors = new();
    private readonly IActorRef _inbox;
    private readonly CancellationTokenSource _stopping = new();

    /// <param name="system">The node's actor system; it must run Akka.Remote (provider remote or cluster).</param>
    /// <param name="snapshots">Carries snapshot chunks (the Kestrel peer transport).</param>
    public PeerLink(ActorSystem system, PeerLinkOptions options, IPeerDispatcher dispatcher, IRaftTransport snapshots, ILogger logger)
    {
        _system = (ExtendedActorSystem)system;
        if (_system.Provider is not RemoteActorRefProvider)
            throw new InvalidOperationException($"The Akka data plane needs Akka.Remote: actor system '{system.Name}' runs akka.actor.provider = {_system.Provider.GetType().Name} (set remote or cluster).");
        options.Validate(system.Settings.Config.GetByteSize("akka.remote.dot-netty.tcp.maximum-frame-size", 128000) ?? 128000);
        _options = options;
        _dispatcher = dispatcher;
        _snapshots = snapshots;
        _logger = logger;
        _inbox = system.ActorOf(PeerInbox.Props(this, options.ProbeInterval), InboxName);
        _actors.Add(_inbox);
    }

    /// <summary>Raised (node id, connected) when the association with a peer comes up or is lost.</summary>
    public event Action<ulong, bool>? ConnectionChanged;

    /// <summary>This node's remoting address, as peers reach it.</summary>
    public Address Address => _system.Provider.DefaultAddress;

    /// <summary>Starts talking to a peer (idempotent; a node's own id is ignored). <paramref name="address"/> is its canonical remoting address.</summary>
    public void AddPeer(ulong nodeId, Address address)
    {
        if (nodeId == _options.NodeId)
            return;
        PeerOutbox outbox;
        lock (_actors)
        {
            if (_stopping.IsCancellationRequested || _outboxes.ContainsKey(nodeId))
                return;
            outbox = new PeerOutbox(nodeId, address, _options.QueueCapacity);
            var remoteInbox = _system.Provider.ResolveActorRef(new RootActorPath(address) / "user" / InboxName);
            var writer = _system.ActorOf(PeerOutboxWriter.Props(outbox, remoteInbox, _options.NodeId, _options.MaxBatchBytes), $"lsmraft-peer-out-{nodeId}");
            outbox.AttachWriter(writer);
            _actors.Add(writer);
            _byAddress[address] = outbox;
            _outboxes[nodeId] = outbox;
        }
        outbox.Enqueue(new OutItem(OutItem.Kinds.Probe, null));
    }

    public bool IsConnected(ulong nodeId) => _outboxes.TryGetValue(nodeId, out var outbox) && outbox.Connected;

    /// <summary>Items and Akka messages sent to <paramref name="nodeId"/> so far (items per message = coalescing).</summary>
    public (long Items, long Messages) SentTo(ulong nodeId) =>
        _outboxes.TryGetValue(nodeId, out var outbox) ? (outbox.ItemsSent, outbox.BatchesSent) : (0, 0);

    public bool Send(ulong groupId, Message message)
    {
        if (!_outboxes.TryGetValue(ReplicaId.NodeOf(message.To), out var outbox)) // To is a Raft id: its node is the peer
            return false;
        var item = !RaftWire.IsCoalescable(message) ? new OutItem(OutItem.Kinds.Raft, RaftWire.ToWire(groupId, message))
            : message.Type == MessageType.HeartbeatResp ? new OutItem(OutItem.Kinds.HeartbeatResponse, RaftWire.ToHeartbeat(groupId, message))
            : new OutItem(OutItem.Kinds.Heartbeat, RaftWire.ToHeartbeat(groupId, message));
        return outbox.Enqueue(item);
    }

    public Task<SnapshotChunkAck> SendSnapshotChunkAsync(SnapshotChunkData chunk, CancellationToken cancellationToken) =>
        _snapshots.SendSnapshotChunkAsync(chunk, cancellationToken);

    public async Task<ForwardResponse> ForwardAsync(ulong nodeId, ForwardRequest request, CancellationToken cancellationToken)
    {
        if (!_outboxes.TryGetValue(nodeId, out var outbox))
            throw new IOException($"Node {nodeId} is not a peer of this node.");
        var response = new TaskCompletionSource<ForwardResponse>(TaskCreationOptions.RunContinuationsAsynchronously);
        request.RequestId = outbox.AwaitResponse(response);
        try
        {
            if (!outbox.Enqueue(new OutItem(OutItem.Kinds.ForwardRequest, request)))
                throw new IOException($"The queue to node {nodeId} is full ({_options.QueueCapacity} items).");
            return await response.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            outbox.ForgetRequest(request.RequestId);
        }
    }

    /// <summary>Dispatches a batch from a peer (on the inbox's thread).</summary>
    internal void Receive(PeerBatch batch)
    {
        if (!_outboxes.TryGetValue(batch.FromNode, out var from))
        {
            _logger.LogDebug("Dropped a batch from node {Node}, which is not a peer of this node", batch.FromNode);
            return;
        }
        if (!OnRecord(batch.FromNode))
            return;
        SetConnected(from, true);
        foreach (var m in batch.Messages)
        {
            var (group, message) = RaftWire.FromWire(m);
            _dispatcher.DeliverRaft(group, message);
        }
        foreach (var h in batch.Heartbeats)
        {
            var (group, message) = RaftWire.FromHeartbeat(h, response: false);
            _dispatcher.DeliverRaft(group, message);
        }
        foreach (var h in batch.HeartbeatResponses)
        {
            var (group, message) = RaftWire.FromHeartbeat(h, response: true);
            _dispatcher.DeliverRaft(group, message);
        }
        foreach (var response in batch.ForwardResponses)
            from.Complete(response);
        foreach (var request in batch.ForwardRequests)
            _ = AnswerAsync(from, request);
        if (batch.Probe)
            from.Enqueue(new OutItem(OutItem.Kinds.ProbeAnswer, null));
    }

    /// <summary>
    /// Records the sender in <c>seen-peers.json</c> (<see cref="PeerLinkOptions.Seen"/>) before any of its messages is
    /// delivered, as the peer port's handshake does before it acknowledges: no vote or acknowledgement of a node counts
    /// here unless the node is durably on record, so a node that later starts with a wiped DATA_DIR learns from this one
    /// that it lost its data. False (the batch is dropped; Raft resends) when the record cannot be written.
    /// </summary>
    private bool OnRecord(ulong nodeId)
    {
        try
        {
            _options.Seen?.Admit(nodeId);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _logger.LogError("Dropped a batch from node {Node}: it cannot be recorded in {File} ({Message}); its messages count only once it is", nodeId, SeenPeers.FileName, e.Message);
            return false;
        }
    }

    /// <summary>Follows Akka.Remote's association events and the cluster's unreachable members (on the inbox's thread); addresses of non-peers are ignored.</summary>
    internal void OnAssociation(Address remote, bool up)
    {
        if (_byAddress.TryGetValue(remote, out var outbox))
            SetConnected(outbox, up);
    }

    /// <summary>Probes every peer without an association (on the inbox's timer).</summary>
    internal void ProbeUnassociated()
    {
        foreach (var outbox in _outboxes.Values)
            if (!outbox.Connected)
                outbox.Enqueue(new OutItem(OutItem.Kinds.Probe, null));
    }

    private void SetConnected(PeerOutbox outbox, bool connected)
    {
        if (!outbox.SetConnected(connected))
            return;
        if (connected)
            _logger.LogDebug("Associated with node {Node} at {Address}", outbox.NodeId, outbox.Address);
        else
            _logger.LogInformation("Lost the association with node {Node} at {Address}", outbox.NodeId, outbox.Address);
        ConnectionChanged?.Invoke(outbox.NodeId, connected);
    }

    private async Task AnswerAsync(PeerOutbox to, ForwardRequest request)
    {
        try
        {
            var response = await _dispatcher.HandleForwardAsync(request, _stopping.Token).ConfigureAwait(false);
            response.RequestId = request.RequestId;
            if (!to.Enqueue(new OutItem(OutItem.Kinds.ForwardResponse, response)))
                _logger.LogDebug("Dropped the answer to request {Request} of node {Node}: its queue is full", request.RequestId, to.NodeId);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or InvalidOperationException or TimeoutException)
        {
            _logger.LogDebug("A request forwarded by node {Node} failed: {Message}", to.NodeId, e.Message);
        }
    }

    /// <summary>Stops the link's actors; forwarded operations still waiting fail.</summary>
    public async ValueTask DisposeAsync()
    {
        IActorRef[] actors;
        lock (_actors)
        {
            _stopping.Cancel();
            actors = _actors.ToArray();
        }
        foreach (var outbox in _outboxes.Values)
            outbox.SetConnected(false);
        if (_system.WhenTerminated.IsCompleted)
            return;
        try
        {
            await Task.WhenAll(actors.Select(a => a.GracefulStop(TimeSpan.FromSeconds(5)))).ConfigureAwait(false);
        }
        catch (TaskCanceledException)
        {
            _logger.LogDebug("PeerLink's actors did not stop within 5 s");
        }
    }
}
