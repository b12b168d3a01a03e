using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Sockets;
using Google.Protobuf;
using Google.Rpc;
using Grpc.Core;
using Grpc.Net.Client;
using LsmRaft.Client.Routing;
using LsmRaft.Client.Wire;
using LsmRaft.Protocol.Api;
using LsmRaft.Protocol.Cluster;
using V1 = LsmRaft.Protocol.Api.V1;

namespace LsmRaft.Client;

/// <summary>The gRPC transport: one channel per endpoint over the client's connection pool, and the gRPC form of answers and errors.</summary>
public sealed partial class LsmRaftClient
{
    private readonly ConcurrentDictionary<Uri, GrpcEndpoint> _channels = new();

    /// <summary>A node's channel and the service clients on it.</summary>
    private sealed record GrpcEndpoint(GrpcChannel Channel, V1.Kv.KvClient Kv, V1.Cluster.ClusterClient Cluster);

    private GrpcEndpoint GrpcFor(Uri endpoint) => _channels.GetOrAdd(endpoint, address =>
    {
        // A pool of its own per node (gRPC configures the SocketsHttpHandler it is given, so handlers are not shared).
        var channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            HttpHandler = _options.Handler ?? new SocketsHttpHandler
            {
                PooledConnectionLifetime = _options.PooledConnectionLifetime,
                ConnectTimeout = _options.ConnectTimeout,
                // More than one HTTP/2 connection to the node once a connection's concurrent streams are all in use.
                EnableMultipleHttp2Connections = true,
            },
            DisposeHttpClient = _options.Handler is null,
            // The server bounds what it accepts and cuts scan pages into messages of about 2 MiB; an answer is never refused here.
            MaxReceiveMessageSize = null,
            MaxSendMessageSize = null,
        });
        return new GrpcEndpoint(channel, new V1.Kv.KvClient(channel), new V1.Cluster.ClusterClient(channel));
    });

    private void DisposeChannels()
    {
        foreach (var endpoint in _channels.Values)
            endpoint.Channel.Dispose();
        _channels.Clear();
    }

    /// <summary>
    /// One attempt over gRPC: runs <paramref name="call"/> on the endpoint's channel. A status the API sent maps to the
    /// exception REST would have given (through the ErrorInfo's HTTP status); NOT_FOUND becomes
    /// <paramref name="onNotFound"/>'s value where the operation has one (get, delete).
    /// </summary>
    private Func<Uri, CancellationToken, Task<T>> OverGrpc<T>(
        RouteRequest route, Func<GrpcEndpoint, CallOptions, Task<(T Value, Metadata Headers)>> call, Func<T>? onNotFound = null) =>
        async (endpoint, token) =>
        {
            try
            {
                var (value, headers) = await call(GrpcFor(endpoint), new CallOptions(cancellationToken: token)).ConfigureAwait(false);
                _resolver.Report(route, endpoint, RouteOutcome.Answered, LeaderHint(headers));
                return value;
            }
            catch (RpcException ex) when (!token.IsCancellationRequested)
            {
                var hint = LeaderHint(ex.Trailers);
                var failure = Classify(ex, endpoint);
                if (failure.Outcome != RouteOutcome.Answered)
                    throw new RetryableFailure(failure.Outcome, failure.Error, failure.NotApplied, failure.RetryAfter, hint);
                _resolver.Report(route, endpoint, RouteOutcome.Answered, hint);
                if (ex.StatusCode == StatusCode.NotFound && onNotFound is not null && failure.Error is LsmRaftNotFoundException)
                    return onNotFound();
                throw failure.Error;
            }
        };

    private static async Task<(T Value, Metadata Headers)> Unary<TResponse, T>(AsyncUnaryCall<TResponse> call, Func<TResponse, T> convert)
    {
        using (call)
        {
            var response = await call.ResponseAsync.ConfigureAwait(false);
            return (convert(response), await call.ResponseHeadersAsync.ConfigureAwait(false));
        }
    }

    /// <summary>One page over the streaming scan: the page's items may come in several messages; the last one's continuation ends it.</summary>
    private static async Task<(KvPage Value, Metadata Headers)> ScanPageAsync(GrpcEndpoint endpoint, ScanOptions options, int limit, string? continuation, CallOptions call)
    {
        var request = new V1.ScanRequest
        {
            Limit = (uint)limit,
            PageSize = (uint)Math.Min(limit, 1000),
            Consistency = GrpcConsistency(options.Consistency),
        };
        if (options.Start is not null) request.Start = Bytes(options.Start);
        if (options.End is not null) request.End = Bytes(options.End);
        if (options.Prefix is not null) request.Prefix = Bytes(options.Prefix);
        if (continuation is not null) request.Continuation = Bytes(ContinuationKey(continuation));
        using var scan = endpoint.Kv.Scan(request, call);
        var items = new List<KvValue>();
        ByteString next = ByteString.Empty;
        while (await scan.ResponseStream.MoveNext(call.CancellationToken).ConfigureAwait(false))
        {
            var page = scan.ResponseStream.Current;
            items.AddRange(page.Items.Select(ToValue));
            next = page.Continuation;
        }
        // The same token as REST's: the next start key in base64url.
        string? token = next.IsEmpty ? null : Base64Url.EncodeToString(next.Span);
        return (new KvPage(items, token), await scan.ResponseHeadersAsync.ConfigureAwait(false));
    }

    private static async Task<(ClusterView Value, Metadata Headers)> ClusterInfoAsync(GrpcEndpoint endpoint, CallOptions call) =>
        await Unary(endpoint.Cluster.ClusterInfoAsync(new V1.ClusterInfoRequest(), call), ClusterViewMessages.FromMessage).ConfigureAwait(false);

    /// <summary>
    /// What a failed call means. A status with LsmRaft's ErrorInfo is the API's answer: its HTTP status decides as it
    /// does over REST (429 and 503 are retried). Any other status comes from the transport or the gRPC framework: a
    /// connection that failed or broke is <see cref="RouteOutcome.Unreachable"/>, the rest map to the nearest REST status.
    /// </summary>
    private static (LsmRaftException Error, RouteOutcome Outcome, bool NotApplied, TimeSpan? RetryAfter) Classify(RpcException ex, Uri endpoint)
    {
        var status = ex.GetRpcStatus();
        var info = status?.GetDetail<ErrorInfo>();
        var retryAfter = status?.GetDetail<RetryInfo>()?.RetryDelay?.ToTimeSpan();
        string message = string.IsNullOrEmpty(ex.Status.Detail) ? $"The server answered gRPC status {ex.StatusCode}." : ex.Status.Detail;
        if (info is { Domain: ApiErrorDetails.Domain }
            && info.Metadata.TryGetValue(ApiErrorDetails.HttpStatusKey, out var httpText)
            && int.TryParse(httpText, NumberStyles.None, CultureInfo.InvariantCulture, out int http))
        {
            ulong? current = info.Metadata.TryGetValue(ApiErrorDetails.CurrentVersionKey, out var v)
                && ulong.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) ? parsed : null;
            info.Metadata.TryGetValue(ApiErrorDetails.TypeKey, out var type);
            info.Metadata.TryGetValue(ApiErrorDetails.CorrelationIdKey, out var correlationId);
            var error = ToException(http, message, type, current, correlationId, retryAfter);
            return http is 429 or 503
                ? (error, RouteOutcome.Unavailable, http == 429, retryAfter)
                : (error, RouteOutcome.Answered, false, null);
        }
        if (ex.Status.DebugException is HttpRequestException or SocketException)
        {
            // A connection that was never established carried nothing, so even a non-idempotent request was not applied.
            bool neverConnected = ex.Status.DebugException is SocketException or HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError };
            return (new LsmRaftUnavailableException($"Could not reach {endpoint}: {ex.Status.DebugException.Message}", null, null, inner: ex),
                RouteOutcome.Unreachable, neverConnected, null);
        }
        return ex.StatusCode switch
        {
            StatusCode.Unavailable or StatusCode.Cancelled or StatusCode.DeadlineExceeded =>
                (new LsmRaftUnavailableException(message, 503, retryAfter, inner: ex), RouteOutcome.Unavailable, false, retryAfter),
            // gRPC's own limit on a message's size (the server's MaxBodyBytes).
            StatusCode.ResourceExhausted => (new LsmRaftTooLargeException(message), RouteOutcome.Answered, false, null),
            StatusCode.InvalidArgument => (new LsmRaftBadRequestException(message), RouteOutcome.Answered, false, null),
            StatusCode.Unimplemented => (new LsmRaftServerException(message, 501, null), RouteOutcome.Answered, false, null),
            _ => (new LsmRaftServerException(message, 500, null), RouteOutcome.Answered, false, null),
        };
    }

    private static Uri? LeaderHint(Metadata? headers) =>
        headers?.GetValue(WireNames.LeaderHintHeader.ToLowerInvariant()) is { } value && Uri.TryCreate(value, UriKind.Absolute, out var hint)
            ? hint
            : null;

    private static ByteString Bytes(byte[] bytes) => ByteString.CopyFrom(bytes);

    private static KvValue ToValue(V1.KeyValue item) => new(item.Key.ToByteArray(), item.Value.ToByteArray(), item.Version);

    private static V1.Consistency GrpcConsistency(Consistency consistency) => consistency switch
    {
        Consistency.Linearizable => V1.Consistency.Linearizable,
        Consistency.Lease => V1.Consistency.Lease,
        Consistency.Stale => V1.Consistency.Stale,
        _ => throw new ArgumentOutOfRangeException(nameof(consistency), consistency, "Unknown consistency."),
    };

    private static byte[] ContinuationKey(string continuation)
    {
        try
        {
            return Base64Url.DecodeFromChars(continuation);
        }
        catch (FormatException)
        {
            throw new ArgumentException($"'{continuation}' is not a continuation of a scan page: pass back KvPage.Continuation unchanged.", nameof(continuation));
        }
    }
}
