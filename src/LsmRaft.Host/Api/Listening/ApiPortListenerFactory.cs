using System.Net;
using System.Threading.Channels;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Options;

namespace LsmRaft.Host.Api.Listening;

/// <summary>
/// Serves HTTP/1.1 and cleartext HTTP/2 (prior knowledge, as gRPC clients speak it without TLS) on one port.
/// Kestrel's <c>Http1AndHttp2</c> picks HTTP/2 only through TLS ALPN and otherwise speaks HTTP/1.1, so the API port
/// is bound as two Kestrel endpoints (<see cref="ApiPortEndPoint"/>, one per protocol) that this factory backs with
/// one socket: it accepts each connection, peeks at its first bytes (<see cref="PrefacePeek"/>) and hands it to the
/// endpoint of its protocol, which then serves it as Kestrel serves any connection (limits, timeouts, graceful stop).
/// Kestrel tries factories in reverse registration order, so this one, registered after the socket transport and
/// binding only <see cref="ApiPortEndPoint"/>s, leaves every other endpoint (the peer port) to the socket transport.
/// </summary>
internal sealed class ApiPortListenerFactory(
    IOptions<SocketTransportOptions> socketOptions, IOptions<KestrelServerOptions> kestrelOptions, ILoggerFactory loggers)
    : IConnectionListenerFactory, IConnectionListenerFactorySelector
{
    private readonly SocketTransportFactory _sockets = new(socketOptions, loggers);
    private readonly ILogger _logger = loggers.CreateLogger("LsmRaft.Host.Api.Listening");
    private readonly TimeSpan _silenceLimit = kestrelOptions.Value.Limits.RequestHeadersTimeout;
    private readonly Lock _lock = new();
    private readonly Dictionary<IPEndPoint, SharedPort> _ports = [];

    public bool CanBind(EndPoint endpoint) => endpoint is ApiPortEndPoint;

    public async ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        if (endpoint is not ApiPortEndPoint { Protocol: HttpProtocols.Http1 or HttpProtocols.Http2 } api)
            throw new ArgumentException($"Only API port endpoints for HTTP/1.1 or HTTP/2 bind here, not {endpoint}.", nameof(endpoint));
        SharedPort port;
        lock (_lock)
        {
            // Keyed by the requested address: with port 0, the second endpoint finds the port the first one bound.
            if (!_ports.TryGetValue(api.Address, out port!))
                _ports[api.Address] = port = new SharedPort(this, api.Address);
        }
        return await port.AttachAsync(api.Protocol, cancellationToken).ConfigureAwait(false);
    }

    private void Forget(SharedPort port)
    {
        lock (_lock)
            _ports.Remove(port.Requested);
    }

    /// <summary>The socket of one API port and the two protocol listeners it feeds.</summary>
    private sealed class SharedPort(ApiPortListenerFactory factory, IPEndPoint requested)
    {
        private readonly Channel<ConnectionContext> _http1 = Channel.CreateUnbounded<ConnectionContext>(new UnboundedChannelOptions { SingleWriter = false });
        private readonly Channel<ConnectionContext> _http2 = Channel.CreateUnbounded<ConnectionContext>(new UnboundedChannelOptions { SingleWriter = false });
        private readonly CancellationTokenSource _stopping = new();
        private readonly SemaphoreSlim _bindLock = new(1, 1);
        private IConnectionListener? _socket;
        private Task _acceptLoop = Task.CompletedTask;
        private int _attached;

        public IPEndPoint Requested { get; } = requested;

        public async ValueTask<IConnectionListener> AttachAsync(HttpProtocols protocol, CancellationToken cancellationToken)
        {
            await _bindLock.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                if (_socket is null)
                {
                    _socket = await factory._sockets.BindAsync(Requested, cancellationToken).ConfigureAwait(false);
                    _acceptLoop = Task.Run(AcceptLoopAsync, CancellationToken.None);
                }
                _attached++;
                var bound = (IPEndPoint)_socket.EndPoint;
                return new ProtocolListener(this, new ApiPortEndPoint(bound, protocol), protocol == HttpProtocols.Http2 ? _http2 : _http1);
            }
            finally
            {
                _bindLock.Release();
            }
        }

        private async Task AcceptLoopAsync()
        {
            var socket = _socket!;
            try
            {
                while (await socket.AcceptAsync(_stopping.Token).ConfigureAwait(false) is { } connection)
                    _ = RouteAsync(connection);
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
            }
            catch (Exception e)
            {
                factory._logger.LogError(e, "The API port {Address} stopped accepting connections", Requested);
            }
        }

        /// <summary>Hands the connection to the listener of its protocol, or closes it when it says nothing in time.</summary>
        private async Task RouteAsync(ConnectionContext connection)
        {
            HttpProtocols? protocol;
            // A connection that stays silent is held no longer than Kestrel would wait for request headers.
            using (var silence = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token))
            {
                silence.CancelAfter(factory._silenceLimit);
                try
                {
                    protocol = await PrefacePeek.DetectAsync(connection.Transport.Input, silence.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is OperationCanceledException or IOException or ConnectionResetException or ConnectionAbortedException)
                {
                    protocol = null;
                }
            }
            if (protocol is { } p && (p == HttpProtocols.Http2 ? _http2 : _http1).Writer.TryWrite(connection))
                return;
            factory._logger.LogDebug("Closing connection {ConnectionId} from {Remote}: {Reason}", connection.ConnectionId, connection.RemoteEndPoint,
                protocol is null ? "it sent no request in time" : "the server is stopping");
            await connection.DisposeAsync().ConfigureAwait(false);
        }

        /// <summary>A protocol stopped accepting; the socket stops when both have.</summary>
        public async ValueTask DetachAsync(Channel<ConnectionContext> queue)
        {
            queue.Writer.TryComplete();
            while (queue.Reader.TryRead(out var left))
                await left.DisposeAsync().ConfigureAwait(false);
            await _bindLock.WaitAsync().ConfigureAwait(false);
            try
            {
                if (--_attached > 0 || _socket is null)
                    return;
                await _stopping.CancelAsync().ConfigureAwait(false);
                await _socket.UnbindAsync().ConfigureAwait(false);
                await _acceptLoop.ConfigureAwait(false);
                await _socket.DisposeAsync().ConfigureAwait(false);
                _socket = null;
                factory.Forget(this);
            }
            finally
            {
                _bindLock.Release();
            }
        }
    }

    private sealed class ProtocolListener(SharedPort port, ApiPortEndPoint endPoint, Channel<ConnectionContext> queue) : IConnectionListener
    {
        private int _detached;

        public EndPoint EndPoint { get; } = endPoint;

        public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
        {
            try
            {
                return await queue.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (ChannelClosedException)
            {
                return null;
            }
        }

        public ValueTask UnbindAsync(CancellationToken cancellationToken = default) => DetachOnceAsync();

        public ValueTask DisposeAsync() => DetachOnceAsync();

        private ValueTask DetachOnceAsync() =>
            Interlocked.Exchange(ref _detached, 1) == 0 ? port.DetachAsync(queue) : ValueTask.CompletedTask;
    }
}
