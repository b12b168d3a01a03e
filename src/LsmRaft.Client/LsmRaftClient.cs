using System.Buffers.Text;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using LsmRaft.Client.Routing;
using LsmRaft.Client.Wire;
using LsmRaft.Protocol.Cluster;
using V1 = LsmRaft.Protocol.Api.V1;

namespace LsmRaft.Client;

/// <summary>
/// A client of an LsmRaft cluster's API, over REST/JSON or gRPC (<see cref="LsmRaftClientOptions.Transport"/>; both
/// on each node's HTTP port, same answers and errors). Thread-safe; create one per application and share it (it pools
/// connections). Every call has a deadline (<see cref="LsmRaftClientOptions.Timeout"/>) within which idempotent
/// requests (get, put, delete, scan, batch, cluster reads) are retried with backoff on 429, 503 and connection
/// failures; compare-and-set is retried only when the failure proves it was not applied (429, or no connection).
/// Admin operations always use REST.
/// </summary>
public sealed partial class LsmRaftClient : IDisposable
{
    private readonly LsmRaftClientOptions _options;
    private readonly HttpMessageHandler _handler;
    private readonly HttpClient _http;
    private readonly IRouteResolver _resolver;
    private readonly Random _jitter;
    private readonly Lock _jitterLock = new();

    public LsmRaftClient(LsmRaftClientOptions? options = null)
    {
        _options = options ?? new LsmRaftClientOptions();
        _options.Retry.Validate();
        if (_options.Timeout <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(options), _options.Timeout, "Timeout must be positive.");
        if (_options.ScanPageSize is < 1 or > 1000)
            throw new ArgumentOutOfRangeException(nameof(options), _options.ScanPageSize, "ScanPageSize must be within 1..1000.");
        _resolver = _options.RouteResolver ?? new EndpointRouteResolver(_options.Endpoints);
        if (_options.Transport is not (LsmRaftTransport.Http or LsmRaftTransport.Grpc))
            throw new ArgumentOutOfRangeException(nameof(options), _options.Transport, "Transport must be Http or Grpc.");
        _handler = _options.Handler ?? new SocketsHttpHandler
        {
            PooledConnectionLifetime = _options.PooledConnectionLifetime,
            ConnectTimeout = _options.ConnectTimeout,
            AutomaticDecompression = DecompressionMethods.None,
        };
        // The deadline is enforced per call (retries included), so HttpClient's own per-request timeout is off.
        _http = new HttpClient(_handler, disposeHandler: false) { Timeout = System.Threading.Timeout.InfiniteTimeSpan };
        _jitter = _options.Retry.Seed is { } seed ? new Random(seed) : new Random();
    }

    /// <summary>The key's value and version, or null when the key does not exist.</summary>
    public Task<KvValue?> GetAsync(byte[] key, Consistency consistency = Consistency.Linearizable, CancellationToken cancellationToken = default)
    {
        RequireKey(key);
        var route = new RouteRequest(key, IsWrite: false);
        return ExecuteAsync(route, idempotent: true, _options.Transport == LsmRaftTransport.Grpc
            ? OverGrpc<KvValue?>(route, (kv, call) => Unary(kv.Kv.GetAsync(new V1.GetRequest { Key = Bytes(key), Consistency = GrpcConsistency(consistency) }, call), r => (KvValue?)ToValue(r.Item)),
                onNotFound: () => null)
            : OverHttp(route, idempotent: true,
                endpoint => new HttpRequestMessage(HttpMethod.Get, KeyUri(endpoint, key, $"&consistency={ConsistencyName(consistency)}")),
                async (response, token) =>
                {
                    if (response.StatusCode == HttpStatusCode.NotFound)
                        return null;
                    await EnsureSuccessAsync(response, token).ConfigureAwait(false);
                    return ToValue(await ReadJsonAsync<KvItem>(response, token).ConfigureAwait(false));
                }),
            cancellationToken);
    }

    /// <summary>Writes the value; returns the key's new version.</summary>
    public Task<ulong> PutAsync(byte[] key, byte[] value, CancellationToken cancellationToken = default)
    {
        RequireKey(key);
        ArgumentNullException.ThrowIfNull(value);
        var route = new RouteRequest(key, IsWrite: true);
        return ExecuteAsync(route, idempotent: true, _options.Transport == LsmRaftTransport.Grpc
            ? OverGrpc(route, (kv, call) => Unary(kv.Kv.PutAsync(new V1.PutRequest { Key = Bytes(key), Value = Bytes(value) }, call), r => r.Version))
            : OverHttp(route, idempotent: true,
                endpoint => new HttpRequestMessage(HttpMethod.Put, KeyUri(endpoint, key, "")) { Content = OctetContent(value) },
                ReadVersionAsync),
            cancellationToken);
    }

    /// <summary>Deletes the key; returns false when it did not exist (a retried delete may report false after the first attempt removed it).</summary>
    public Task<bool> DeleteAsync(byte[] key, CancellationToken cancellationToken = default)
    {
        RequireKey(key);
        var route = new RouteRequest(key, IsWrite: true);
        return ExecuteAsync(route, idempotent: true, _options.Transport == LsmRaftTransport.Grpc
            ? OverGrpc(route, (kv, call) => Unary(kv.Kv.DeleteAsync(new V1.DeleteRequest { Key = Bytes(key) }, call), _ => true), onNotFound: () => false)
            : OverHttp(route, idempotent: true,
                endpoint => new HttpRequestMessage(HttpMethod.Delete, KeyUri(endpoint, key, "")),
                async (response, token) =>
                {
                    if (response.StatusCode == HttpStatusCode.NotFound)
                        return false;
                    await EnsureSuccessAsync(response, token).ConfigureAwait(false);
                    return true;
                }),
            cancellationToken);
    }

    /// <summary>
    /// Sets the key to <paramref name="value"/> (or deletes it when null) only if its version is
    /// <paramref name="expectedVersion"/> (0 = it must not exist); returns the new version (0 after a delete).
    /// Throws <see cref="LsmRaftVersionConflictException"/> when the version differs.
    /// </summary>
    public Task<ulong> CompareAndSetAsync(byte[] key, ulong expectedVersion, byte[]? value, CancellationToken cancellationToken = default)
    {
        RequireKey(key);
        var route = new RouteRequest(key, IsWrite: true);
        if (_options.Transport == LsmRaftTransport.Grpc)
        {
            var request = new V1.CompareAndSetRequest { Key = Bytes(key), ExpectedVersion = expectedVersion };
            if (value is not null)
                request.Value = Bytes(value);
            return ExecuteAsync(route, idempotent: false, OverGrpc(route, (kv, call) => Unary(kv.Kv.CompareAndSetAsync(request, call), r => r.Version)), cancellationToken);
        }
        var body = new CompareAndSetRequest(expectedVersion, value is null ? null : Base64Url.EncodeToString(value), WireNames.Base64Url);
        return ExecuteAsync(route, idempotent: false, OverHttp(route, idempotent: false,
            endpoint => new HttpRequestMessage(HttpMethod.Post, KeyUri(endpoint, key, "", "/cas")) { Content = JsonContent(body) },
            ReadVersionAsync), cancellationToken);
    }

    /// <summary>Applies the operations; atomically when they all fall in one shard, else the server answers 400 (see docs/api.md).</summary>
    public Task BatchAsync(IEnumerable<KvOperation> operations, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(operations);
        var list = operations.ToList();
        foreach (var op in list)
            RequireKey(op.Key);
        var route = new RouteRequest(null, IsWrite: true);
        // A batch of puts and deletes leaves the same state when applied twice, so it is retried like a put.
        if (_options.Transport == LsmRaftTransport.Grpc)
        {
            var request = new V1.BatchRequest();
            request.Operations.AddRange(list.Select(op => op.Value is null
                ? new V1.BatchOperation { Delete = new V1.DeleteOperation { Key = Bytes(op.Key) } }
                : new V1.BatchOperation { Put = new V1.PutOperation { Key = Bytes(op.Key), Value = Bytes(op.Value) } }));
            return ExecuteAsync(route, idempotent: true, OverGrpc(route, (kv, call) => Unary(kv.Kv.BatchAsync(request, call), _ => true)), cancellationToken);
        }
        var items = list.Select(op => new BatchOperationItem(
            op.Value is null ? "delete" : "put",
            Base64Url.EncodeToString(op.Key),
            op.Value is null ? null : Base64Url.EncodeToString(op.Value))).ToList();
        var body = new BatchRequest(items, WireNames.Base64Url);
        return ExecuteAsync(route, idempotent: true, OverHttp(route, idempotent: true,
            endpoint => new HttpRequestMessage(HttpMethod.Post, new Uri(endpoint, "v1/batch")) { Content = JsonContent(body) },
            async (response, token) =>
            {
                await EnsureSuccessAsync(response, token).ConfigureAwait(false);
                return true;
            }),
            cancellationToken);
    }

    /// <summary>Every key in the range in key order, fetched page by page as the enumeration proceeds.</summary>
    public async IAsyncEnumerable<KvValue> ScanAsync(ScanOptions options, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        int remaining = options.Limit ?? int.MaxValue;
        string? continuation = null;
        while (remaining > 0)
        {
            var page = await ScanPageAsync(options, Math.Min(remaining, _options.ScanPageSize), continuation, cancellationToken).ConfigureAwait(false);
            foreach (var item in page.Items)
            {
                if (remaining-- == 0)
                    yield break;
                cancellationToken.ThrowIfCancellationRequested();
                yield return item;
            }
            continuation = page.Continuation;
            if (continuation is null)
                yield break;
        }
    }

    /// <summary>One page of at most <paramref name="limit"/> items; pass the returned continuation to continue.</summary>
    public Task<KvPage> ScanPageAsync(ScanOptions options, int limit, string? continuation, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        var route = new RouteRequest(null, IsWrite: false);
        if (_options.Transport == LsmRaftTransport.Grpc)
            return ExecuteAsync(route, idempotent: true, OverGrpc(route, (kv, call) => ScanPageAsync(kv, options, limit, continuation, call)), cancellationToken);
        var query = new StringBuilder($"?encoding={WireNames.Base64Url}&limit={limit}&consistency={ConsistencyName(options.Consistency)}");
        if (options.Start is not null) query.Append("&start=").Append(Base64Url.EncodeToString(options.Start));
        if (options.End is not null) query.Append("&end=").Append(Base64Url.EncodeToString(options.End));
        if (options.Prefix is not null) query.Append("&prefix=").Append(Base64Url.EncodeToString(options.Prefix));
        if (continuation is not null) query.Append("&continuation=").Append(Uri.EscapeDataString(continuation));
        string pathAndQuery = "v1/kv" + query;
        return ExecuteAsync(route, idempotent: true, OverHttp(route, idempotent: true,
            endpoint => new HttpRequestMessage(HttpMethod.Get, new Uri(endpoint, pathAndQuery)),
            async (response, token) =>
            {
                await EnsureSuccessAsync(response, token).ConfigureAwait(false);
                var result = await ReadJsonAsync<ScanResult>(response, token).ConfigureAwait(false);
                return new KvPage(result.Items.Select(ToValue).ToList(), result.Continuation);
            }),
            cancellationToken);
    }

    /// <summary>The cluster as the answering node sees it: nodes, shards, leaders, epochs.</summary>
    public Task<ClusterView> GetClusterAsync(CancellationToken cancellationToken = default)
    {
        var route = new RouteRequest(null, IsWrite: false);
        return ExecuteAsync(route, idempotent: true, _options.Transport == LsmRaftTransport.Grpc
            ? OverGrpc(route, ClusterInfoAsync)
            : OverHttp(route, idempotent: true,
                endpoint => new HttpRequestMessage(HttpMethod.Get, new Uri(endpoint, "v1/cluster")),
                async (response, token) =>
                {
                    await EnsureSuccessAsync(response, token).ConfigureAwait(false);
                    return await ReadJsonAsync<ClusterView>(response, token).ConfigureAwait(false);
                }),
            cancellationToken);
    }

    /// <summary>The cluster view joined with every node's report (uptime, version, per-shard Raft state, lag, size).</summary>
    public Task<ClusterStatus> GetClusterStatusAsync(CancellationToken cancellationToken = default) =>
        GetJsonAsync<ClusterStatus>("v1/cluster/status", admin: false, cancellationToken);

    /// <summary>Starts draining a node (every replica moved off it, then marked removed); returns how far the drain has come.</summary>
    public Task<DrainProgress> DrainNodeAsync(ulong nodeId, CancellationToken cancellationToken = default) =>
        AdminAsync<DrainProgress>($"v1/admin/nodes/{nodeId}/drain", body: null, cancellationToken);

    /// <summary>How far a node's drain has come.</summary>
    public Task<DrainProgress> GetDrainAsync(ulong nodeId, CancellationToken cancellationToken = default) =>
        GetJsonAsync<DrainProgress>($"v1/admin/nodes/{nodeId}/drain", admin: true, cancellationToken);

    /// <summary>Marks a node removed now (its replicas are re-created elsewhere); refused for a live node unless <paramref name="force"/>.</summary>
    public Task<ClusterView> DownNodeAsync(ulong nodeId, bool force, CancellationToken cancellationToken = default) =>
        AdminAsync<ClusterView>($"v1/admin/nodes/{nodeId}/down{(force ? "?force=true" : "")}", body: null, cancellationToken);

    /// <summary>Admits the node at a peer address again (clears a drain or removal); 404 for an address no node announced.</summary>
    public Task<ClusterView> JoinNodeAsync(string peerAddress, CancellationToken cancellationToken = default) =>
        AdminAsync<ClusterView>("v1/admin/nodes/join", new JoinNodeRequest(peerAddress), cancellationToken);

    /// <summary>Splits a shard's hash range in two; returns the cluster view once the split is committed.</summary>
    public Task<ClusterView> SplitShardAsync(ulong shardId, CancellationToken cancellationToken = default) =>
        AdminAsync<ClusterView>($"v1/admin/shards/{shardId}/split", body: null, cancellationToken);

    /// <summary>Moves a shard's replica from one node to another (learner, catch up, promote, remove); returns once the move is committed.</summary>
    public Task<ClusterView> MoveReplicaAsync(ulong shardId, ulong fromNode, ulong toNode, CancellationToken cancellationToken = default) =>
        AdminAsync<ClusterView>($"v1/admin/shards/{shardId}/move", new MoveReplicaRequest(fromNode, toNode), cancellationToken);

    /// <summary>Transfers a shard's leadership to the replica on <paramref name="toNode"/>.</summary>
    public Task<ClusterView> TransferLeaderAsync(ulong shardId, ulong toNode, CancellationToken cancellationToken = default) =>
        AdminAsync<ClusterView>($"v1/admin/shards/{shardId}/transfer-leader", new TransferLeaderRequest(toNode), cancellationToken);

    public void Dispose()
    {
        DisposeChannels();
        _http.Dispose();
        if (_options.Handler is null)
            _handler.Dispose();
    }

    private Task<T> GetJsonAsync<T>(string path, bool admin, CancellationToken cancellationToken)
    {
        var route = new RouteRequest(null, IsWrite: false);
        return ExecuteAsync(route, idempotent: true, OverHttp(route, idempotent: true,
            endpoint => Authorized(new HttpRequestMessage(HttpMethod.Get, new Uri(endpoint, path)), admin),
            async (response, token) =>
            {
                await EnsureSuccessAsync(response, token).ConfigureAwait(false);
                return await ReadJsonAsync<T>(response, token).ConfigureAwait(false);
            }),
            cancellationToken);
    }

    private Task<T> AdminAsync<T>(string path, object? body, CancellationToken cancellationToken)
    {
        var route = new RouteRequest(null, IsWrite: true);
        // Admin operations change the cluster; like compare-and-set they are retried only when provably not applied.
        return ExecuteAsync(route, idempotent: false, OverHttp(route, idempotent: false,
            endpoint => Authorized(new HttpRequestMessage(HttpMethod.Post, new Uri(endpoint, path)) { Content = body is null ? null : JsonContent(body) }, admin: true),
            async (response, token) =>
            {
                await EnsureSuccessAsync(response, token).ConfigureAwait(false);
                return await ReadJsonAsync<T>(response, token).ConfigureAwait(false);
            }),
            cancellationToken);
    }

    /// <summary>Adds the admin token (when configured) to a request for an admin endpoint.</summary>
    private HttpRequestMessage Authorized(HttpRequestMessage request, bool admin)
    {
        if (admin && _options.AdminToken is { } token)
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return request;
    }

    private static async Task<ulong> ReadVersionAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        return (await ReadJsonAsync<WriteResult>(response, cancellationToken).ConfigureAwait(false)).Version;
    }

    private static Uri KeyUri(Uri endpoint, byte[] key, string extraQuery, string suffix = "") =>
        new(endpoint, $"v1/kv/{Base64Url.EncodeToString(key)}{suffix}?encoding={WireNames.Base64Url}{extraQuery}");

    private static string ConsistencyName(Consistency consistency) => consistency switch
    {
        Consistency.Linearizable => "linearizable",
        Consistency.Lease => "lease",
        Consistency.Stale => "stale",
        _ => throw new ArgumentOutOfRangeException(nameof(consistency), consistency, "Unknown consistency."),
    };

    private static ByteArrayContent OctetContent(byte[] value)
    {
        var content = new ByteArrayContent(value);
        content.Headers.ContentType = new MediaTypeHeaderValue(WireNames.OctetStream);
        return content;
    }

    private static HttpContent JsonContent(object body) =>
        System.Net.Http.Json.JsonContent.Create(body, body.GetType(), options: WireJson.Lenient);

    private static KvValue ToValue(KvItem item) =>
        new(WireEncoding.Decode(item.Key, item.Encoding), WireEncoding.Decode(item.Value, item.Encoding), item.Version);

    private static void RequireKey(byte[] key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Length == 0)
            throw new ArgumentException("Keys must not be empty.", nameof(key));
    }

    private static async Task<T> ReadJsonAsync<T>(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            return await response.Content.ReadFromJsonAsync<T>(WireJson.Lenient, cancellationToken).ConfigureAwait(false)
                ?? throw new LsmRaftServerException($"The server answered {(int)response.StatusCode} with an empty JSON body.", (int)response.StatusCode, null);
        }
        catch (JsonException ex)
        {
            throw new LsmRaftServerException($"The server's answer is not the expected JSON: {ex.Message}", (int)response.StatusCode, null);
        }
    }
}
