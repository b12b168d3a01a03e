using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Threading.Channels;
using Google.Protobuf;
using LsmRaft.Host.Metrics;
using LsmRaft.Protocol.Framing;
using LsmRaft.Protocol.Peer;

namespace LsmRaft.Host.Peer;

/// <summary>
/// The persistent outbound connection from this node to one peer. Raft messages of every group are
/// queued in one bounded channel and written as one <see cref="RaftBatch"/> per flush (batching per
/// destination); requests (snapshot chunks, forwarded operations) are correlated with their responses
/// by request id. Reconnects with capped exponential backoff; a lost connection fails pending requests.
/// </summary>
internal sealed class PeerClient : IAsyncDisposable
{
    private readonly PeerOptions _options;
    private readonly ulong _peerId;
    private readonly PeerEndpoint _address;
    private readonly ILogger _logger;
    private readonly Channel<Outgoing> _queue;
    private readonly ConcurrentDictionary<ulong, TaskCompletionSource<Envelope>> _pending = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly KeyValuePair<string, object?> _peerTag;
    private long _nextRequestId;

    public PeerClient(PeerOptions options, ulong peerId, PeerEndpoint address, ILogger logger)
    {
        _options = options;
        _peerId = peerId;
        _address = address;
        _logger = logger;
        _peerTag = TransportMetrics.PeerTag(peerId);
        _queue = Channel.CreateBounded<Outgoing>(new BoundedChannelOptions(options.SendQueueCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        _loop = Task.Run(RunAsync);
    }

    public bool Connected { get; private set; }

    /// <summary>Queues a Raft message; false when the queue is full (the message is dropped; Raft retransmits).</summary>
    public bool TrySend(RaftMessage message) => _queue.Writer.TryWrite(new Outgoing(message, null));

    /// <summary>Queues a coalesced heartbeat (or heartbeat response); false when the queue is full.</summary>
    public bool TrySendHeartbeat(HeartbeatEntry heartbeat, bool response) =>
        _queue.Writer.TryWrite(new Outgoing(null, null, heartbeat, response));

    /// <summary>Sends a request and waits for its response (correlated by request id).</summary>
    public async Task<Envelope> RequestAsync(Func<ulong, Envelope> build, CancellationToken cancellationToken)
    {
        ulong id = (ulong)Interlocked.Increment(ref _nextRequestId);
        var tcs = new TaskCompletionSource<Envelope>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = tcs;
        try
        {
            await _queue.Writer.WriteAsync(new Outgoing(null, build(id)), cancellationToken).ConfigureAwait(false);
            return await tcs.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _queue.Writer.TryComplete();
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        FailPending(new IOException($"Connection to node {_peerId} closed."));
    }

    private async Task RunAsync()
    {
        var backoff = TimeSpan.FromMilliseconds(50);
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                await socket.ConnectAsync(_address.Host, _address.Port, _stop.Token).ConfigureAwait(false);
                await using var stream = new NetworkStream(socket, ownsSocket: false);
                var reader = PipeReader.Create(stream);
                var writer = PipeWriter.Create(stream);
                await HandshakeAsync(reader, writer).ConfigureAwait(false);
                Connected = true;
                _options.OnConnectionChanged(_peerId, true);
                backoff = TimeSpan.FromMilliseconds(50);
                using var connection = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                var readLoop = ReadResponsesAsync(reader, connection.Token);
                var writeLoop = WriteLoopAsync(writer, connection.Token);
                await Task.WhenAny(readLoop, writeLoop).ConfigureAwait(false);
                connection.Cancel();
                await Task.WhenAll(readLoop.ContinueWith(_ => { }), writeLoop.ContinueWith(_ => { })).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or PeerRejectedException or InvalidDataException)
            {
                if (e is PeerRejectedException)
                    _logger.LogError("Node {Peer} at {Address} refused this node: {Message}", _options.Names.NameOf(_peerId), _address, e.Message);
                else if (!_stop.IsCancellationRequested)
                    _logger.LogDebug("Connection to node {Peer} at {Address} failed: {Message}", _options.Names.NameOf(_peerId), _address, e.Message);
            }
            if (Connected)
            {
                Connected = false;
                _options.OnConnectionChanged(_peerId, false);
            }
            FailPending(new IOException($"Connection to node {_peerId} at {_address} was lost."));
            if (_stop.IsCancellationRequested)
                break;
            try
            {
                await Task.Delay(backoff, _stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            backoff = TimeSpan.FromMilliseconds(Math.Min(backoff.TotalMilliseconds * 2, 2000));
        }
    }

    private async Task HandshakeAsync(PipeReader reader, PipeWriter writer)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        timeout.CancelAfter(_options.HandshakeTimeout);
        var ack = await HandshakeAsync(_options, reader, writer, timeout.Token).ConfigureAwait(false);
        if (ack.HttpAddress.Length > 0)
            _options.PeerHttpAddresses[_peerId] = ack.HttpAddress;
    }

    /// <summary>The dialer's side of the handshake (docs/peer-protocol.md): answers the challenge, checks the acceptor's proof.</summary>
    internal static async Task<HelloAck> HandshakeAsync(PeerOptions options, PipeReader reader, PipeWriter writer, CancellationToken token)
    {
        var challenge = await PeerFraming.ReadOneAsync(reader, options.MaxFrameBytes, token).ConfigureAwait(false);
        if (challenge?.KindCase != Envelope.KindOneofCase.Challenge)
            throw new InvalidDataException("Peer did not open with a challenge.");
        var clientNonce = PeerAuthentication.CreateNonce();
        FrameCodec.WriteFrame(writer, new Envelope
        {
            Hello = new Hello
            {
                ClusterId = options.ClusterId,
                NodeId = options.NodeId,
                SecretProof = ByteString.CopyFrom(PeerAuthentication.ComputeProof(options.Secret, challenge.Challenge.Nonce.Span)),
                ProtocolVersion = PeerAuthentication.ProtocolVersion,
                ClientNonce = ByteString.CopyFrom(clientNonce),
                HttpAddress = options.HttpAddress,
                Joining = options.Joining,
                PeerAddress = options.Joining ? options.OwnPeerAddress : "",
            },
        });
        await writer.FlushAsync(token).ConfigureAwait(false);
        var answer = await PeerFraming.ReadOneAsync(reader, options.MaxFrameBytes, token).ConfigureAwait(false);
        switch (answer?.KindCase)
        {
            case Envelope.KindOneofCase.HelloAck when PeerAuthentication.VerifyProof(options.Secret, clientNonce, answer.HelloAck.ServerProof.Span):
                return answer.HelloAck;
            case Envelope.KindOneofCase.HelloAck:
                throw new PeerRejectedException("the peer could not prove it knows the cluster secret");
            case Envelope.KindOneofCase.HelloReject:
                throw new PeerRejectedException($"{answer.HelloReject.Code}: {answer.HelloReject.Reason}");
            default:
                throw new InvalidDataException("Peer answered the handshake with an unexpected message.");
        }
    }

    /// <summary>
    /// One handshake with the member at <paramref name="address"/>, then the connection is closed. With
    /// <see cref="PeerOptions.Joining"/> it joins through that member (the answer names the members and meta voters it
    /// knows); without, it asks whether the member had seen this node before (<c>HelloAck.seen_before</c>).
    /// </summary>
    internal static async Task<HelloAck> HelloOnceAsync(PeerOptions options, PeerEndpoint address, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.HandshakeTimeout);
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(address.Host, address.Port, timeout.Token).ConfigureAwait(false);
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        return await HandshakeAsync(options, PipeReader.Create(stream), PipeWriter.Create(stream), timeout.Token).ConfigureAwait(false);
    }

    private async Task WriteLoopAsync(PipeWriter writer, CancellationToken token)
    {
        var reader = _queue.Reader;
        var batch = new RaftBatch();
        while (await reader.WaitToReadAsync(token).ConfigureAwait(false))
        {
            // Drain everything queued: Raft messages of all groups go out as one batch frame, their context-less
            // heartbeats in its compact lists.
            int count = 0;
            long messages = 0;
            while (reader.TryRead(out var item))
            {
                messages++;
                if (item.Raft is not null)
                    batch.Messages.Add(item.Raft);
                else if (item.Heartbeat is not null)
                    (item.Response ? batch.HeartbeatResponses : batch.Heartbeats).Add(item.Heartbeat);
                else
                {
                    FrameCodec.WriteFrame(writer, item.Request!, _options.MaxFrameBytes);
                    continue;
                }
                if (++count >= 4096)
                {
                    FlushBatch(writer, ref batch);
                    count = 0;
                }
            }
            if (count > 0)
                FlushBatch(writer, ref batch);
            _options.Metrics?.RecordSent(_peerTag, messages, writer.CanGetUnflushedBytes ? writer.UnflushedBytes : 0);
            var flushed = await writer.FlushAsync(token).ConfigureAwait(false);
            if (flushed.IsCompleted)
                return;
        }
    }

    private void FlushBatch(PipeWriter writer, ref RaftBatch batch)
    {
        FrameCodec.WriteFrame(writer, new Envelope { RaftBatch = batch }, _options.MaxFrameBytes);
        batch = new RaftBatch();
    }

    private async Task ReadResponsesAsync(PipeReader reader, CancellationToken token)
    {
        while (true)
        {
            var result = await reader.ReadAsync(token).ConfigureAwait(false);
            var buffer = result.Buffer;
            long bufferBytes = buffer.Length;
            long frames = 0;
            while (FrameCodec.TryReadFrame(ref buffer, _options.MaxFrameBytes, out var envelope))
            {
                frames++;
                ulong id = envelope.KindCase switch
                {
                    Envelope.KindOneofCase.SnapshotChunkAck => envelope.SnapshotChunkAck.RequestId,
                    Envelope.KindOneofCase.ForwardResponse => envelope.ForwardResponse.RequestId,
                    _ => 0,
                };
                if (_pending.TryRemove(id, out var tcs))
                    tcs.TrySetResult(envelope);
            }
            _options.Metrics?.RecordReceived(_peerTag, frames, bufferBytes - buffer.Length);
            reader.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
                return;
        }
    }

    private void FailPending(Exception error)
    {
        foreach (var (id, tcs) in _pending)
            if (_pending.TryRemove(id, out _))
                tcs.TrySetException(error);
    }

    private sealed record Outgoing(RaftMessage? Raft, Envelope? Request, HeartbeatEntry? Heartbeat = null, bool Response = false);
}

/// <summary>The peer refused the handshake (wrong cluster, unknown node, bad secret).</summary>
internal sealed class PeerRejectedException(string message) : IOException(message);
