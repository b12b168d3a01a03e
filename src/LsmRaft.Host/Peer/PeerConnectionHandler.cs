using System.Buffers;
using System.IO.Pipelines;
using Google.Protobuf;
using LsmRaft.Host.Metrics;
using LsmRaft.Protocol.Framing;
using LsmRaft.Protocol.Peer;
using Microsoft.AspNetCore.Connections;

namespace LsmRaft.Host.Peer;

/// <summary>
/// Serves inbound peer connections on <c>PORT</c> (a Kestrel connection handler over System.IO.Pipelines):
/// challenge-response handshake proving knowledge of the cluster secret, then a stream of frames —
/// Raft batches delivered to replicas, and requests (snapshot chunks, forwarded client operations)
/// answered on the same connection. A peer of another cluster, an unknown node, or a bad proof is refused.
/// </summary>
/// <remarks>
/// A peer connection lasts as long as both nodes run, so it ends here when the node starts stopping
/// (<see cref="IHostApplicationLifetime.ApplicationStopping"/>); otherwise every stop would wait out
/// Kestrel's whole grace period for connections that never finish on their own.
/// </remarks>
internal sealed class PeerConnectionHandler(PeerOptions options, IPeerDispatcher dispatcher, IHostApplicationLifetime lifetime, ILogger<PeerConnectionHandler> logger) : ConnectionHandler
{
    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        var input = connection.Transport.Input;
        var output = connection.Transport.Output;
        var writeLock = new SemaphoreSlim(1, 1);
        using var ends = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed, lifetime.ApplicationStopping);
        var token = ends.Token;
        try
        {
            ulong peer = await HandshakeAsync(input, output, token).ConfigureAwait(false);
            if (peer == 0)
                return;
            var peerTag = TransportMetrics.PeerTag(peer);
            while (true)
            {
                var result = await input.ReadAsync(token).ConfigureAwait(false);
                var buffer = result.Buffer;
                long bufferBytes = buffer.Length;
                long messages = 0;
                while (FrameCodec.TryReadFrame(ref buffer, options.MaxFrameBytes, out var envelope))
                    messages += Dispatch(envelope, output, writeLock, peerTag, token);
                options.Metrics?.RecordReceived(peerTag, messages, bufferBytes - buffer.Length);
                input.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted)
                    break;
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ConnectionResetException or InvalidDataException)
        {
            logger.LogDebug("Peer connection {Id} closed: {Message}", connection.ConnectionId, e.Message);
        }
    }

    /// <summary>Hands one frame's contents on; returns the number of messages it carried.</summary>
    private int Dispatch(Envelope envelope, PipeWriter output, SemaphoreSlim writeLock, KeyValuePair<string, object?> peerTag, CancellationToken token)
    {
        switch (envelope.KindCase)
        {
            case Envelope.KindOneofCase.RaftBatch:
                foreach (var m in envelope.RaftBatch.Messages)
                {
                    var (group, message) = RaftWire.FromWire(m);
                    dispatcher.DeliverRaft(group, message);
                }
                foreach (var h in envelope.RaftBatch.Heartbeats)
                {
                    var (group, message) = RaftWire.FromHeartbeat(h, response: false);
                    dispatcher.DeliverRaft(group, message);
                }
                foreach (var h in envelope.RaftBatch.HeartbeatResponses)
                {
                    var (group, message) = RaftWire.FromHeartbeat(h, response: true);
                    dispatcher.DeliverRaft(group, message);
                }
                return envelope.RaftBatch.Messages.Count + envelope.RaftBatch.Heartbeats.Count + envelope.RaftBatch.HeartbeatResponses.Count;
            case Envelope.KindOneofCase.RaftMessage:
                {
                    var (group, message) = RaftWire.FromWire(envelope.RaftMessage);
                    dispatcher.DeliverRaft(group, message);
                    return 1;
                }
            case Envelope.KindOneofCase.SnapshotChunk:
                {
                    var chunk = envelope.SnapshotChunk;
                    _ = RespondAsync(async () => new Envelope { SnapshotChunkAck = RaftWire.ToWire(chunk, await dispatcher.HandleSnapshotChunkAsync(RaftWire.FromWire(chunk), token).ConfigureAwait(false)) },
                        output, writeLock, peerTag, token);
                    return 1;
                }
            case Envelope.KindOneofCase.ForwardRequest:
                {
                    var request = envelope.ForwardRequest;
                    _ = RespondAsync(async () => new Envelope { ForwardResponse = await dispatcher.HandleForwardAsync(request, token).ConfigureAwait(false) },
                        output, writeLock, peerTag, token);
                    return 1;
                }
            default:
                throw new InvalidDataException($"Unexpected {envelope.KindCase} after the handshake.");
        }
    }

    private async Task RespondAsync(Func<Task<Envelope>> handle, PipeWriter output, SemaphoreSlim writeLock, KeyValuePair<string, object?> peerTag, CancellationToken token)
    {
        try
        {
            var response = await handle().ConfigureAwait(false);
            long bytes = await WriteAsync(output, response, writeLock, token).ConfigureAwait(false);
            options.Metrics?.RecordSent(peerTag, 1, bytes);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or InvalidOperationException)
        {
            logger.LogDebug("Peer request failed: {Message}", e.Message);
        }
    }

    private async Task<ulong> HandshakeAsync(PipeReader input, PipeWriter output, CancellationToken token)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
        timeout.CancelAfter(options.HandshakeTimeout);
        var nonce = PeerAuthentication.CreateNonce();
        await WriteAsync(output, new Envelope { Challenge = new Challenge { Nonce = ByteString.CopyFrom(nonce), ProtocolVersion = PeerAuthentication.ProtocolVersion, NodeId = options.NodeId } }, null, timeout.Token).ConfigureAwait(false);
        var envelope = await PeerFraming.ReadOneAsync(input, options.MaxFrameBytes, timeout.Token).ConfigureAwait(false);
        if (envelope?.KindCase != Envelope.KindOneofCase.Hello)
            return await RejectAsync(output, HelloRejectCode.ProtocolError, "expected Hello", timeout.Token).ConfigureAwait(false);
        var hello = envelope.Hello;
        if (hello.ProtocolVersion != PeerAuthentication.ProtocolVersion)
            return await RejectAsync(output, HelloRejectCode.UnsupportedVersion, $"protocol version {hello.ProtocolVersion} is not {PeerAuthentication.ProtocolVersion}", timeout.Token).ConfigureAwait(false);
        if (hello.ClusterId != options.ClusterId)
            return await RejectAsync(output, HelloRejectCode.WrongCluster, $"this node belongs to cluster '{options.ClusterId}', not '{hello.ClusterId}'", timeout.Token).ConfigureAwait(false);
        var joiningAt = hello.Joining ? PeerEndpoint.TryParse(hello.PeerAddress) : null;
        if (hello.Joining && joiningAt is null)
            return await RejectAsync(output, HelloRejectCode.ProtocolError, $"a joining node must announce its peer address as host:port, not '{hello.PeerAddress}'", timeout.Token).ConfigureAwait(false);
        if (!options.IsKnown(hello.NodeId) && !hello.Joining)
            return await RejectAsync(output, HelloRejectCode.UnknownNode, $"node {hello.NodeId} is not a member (start it with --join to add it)", timeout.Token).ConfigureAwait(false);
        if (hello.NodeId == options.NodeId)
            return await RejectAsync(output, HelloRejectCode.UnknownNode, $"node id {hello.NodeId} is this node's own id", timeout.Token).ConfigureAwait(false);
        if (!PeerAuthentication.VerifyProof(options.Secret, nonce, hello.SecretProof.Span))
            return await RejectAsync(output, HelloRejectCode.BadProof, "the cluster secret does not match", timeout.Token).ConfigureAwait(false);
        var proof = PeerAuthentication.ComputeProof(options.Secret, hello.ClientNonce.Span);
        if (hello.HttpAddress.Length > 0)
            options.PeerHttpAddresses[hello.NodeId] = hello.HttpAddress;
        // Recorded durably before the acknowledgement, so no Raft message of the dialer is read before its node is on record.
        var ack = new HelloAck { NodeId = options.NodeId, ServerProof = ByteString.CopyFrom(proof), HttpAddress = options.HttpAddress, SeenBefore = options.Seen?.Admit(hello.NodeId) ?? false };
        if (joiningAt is not null)
        {
            // Admitted by the secret: remember the joiner, and tell it who the members are.
            if (options.AddJoined(hello.NodeId, joiningAt))
                logger.LogInformation("Node {Node} joined from {Address}", options.Names.NameOf(hello.NodeId), joiningAt);
            ack.Members.Add(new NodeAddress { Id = options.NodeId, PeerAddress = options.OwnPeerAddress });
            foreach (var (id, endpoint) in options.AllPeers)
                if (id != options.NodeId)
                    ack.Members.Add(new NodeAddress { Id = id, PeerAddress = endpoint.ToString() });
            ack.MetaVoters.AddRange(options.MetaVoters);
        }
        await WriteAsync(output, new Envelope { HelloAck = ack }, null, timeout.Token).ConfigureAwait(false);
        return hello.NodeId;
    }

    private async Task<ulong> RejectAsync(PipeWriter output, HelloRejectCode code, string reason, CancellationToken token)
    {
        logger.LogWarning("Refused a peer connection: {Reason}", reason);
        await WriteAsync(output, new Envelope { HelloReject = new HelloReject { Code = code, Reason = reason } }, null, token).ConfigureAwait(false);
        return 0;
    }

    /// <summary>Writes and flushes one frame; returns its size when the writer can tell (0 otherwise).</summary>
    private static async Task<long> WriteAsync(PipeWriter output, Envelope envelope, SemaphoreSlim? writeLock, CancellationToken token)
    {
        if (writeLock is not null)
            await writeLock.WaitAsync(token).ConfigureAwait(false);
        try
        {
            FrameCodec.WriteFrame(output, envelope);
            long bytes = output.CanGetUnflushedBytes ? output.UnflushedBytes : 0;
            await output.FlushAsync(token).ConfigureAwait(false);
            return bytes;
        }
        finally
        {
            writeLock?.Release();
        }
    }
}

/// <summary>Frame reading helpers shared by both ends of a peer connection.</summary>
internal static class PeerFraming
{
    /// <summary>Reads exactly one frame; null when the connection ended first.</summary>
    public static async Task<Envelope?> ReadOneAsync(PipeReader input, int maxFrame, CancellationToken token)
    {
        while (true)
        {
            var result = await input.ReadAsync(token).ConfigureAwait(false);
            var buffer = result.Buffer;
            if (FrameCodec.TryReadFrame(ref buffer, maxFrame, out var envelope))
            {
                input.AdvanceTo(buffer.Start);
                return envelope;
            }
            input.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
                return null;
        }
    }
}
