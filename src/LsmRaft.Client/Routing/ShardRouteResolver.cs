using System.Net.Http.Json;
using LsmRaft.Client.Wire;
using LsmRaft.Protocol.Cluster;

namespace LsmRaft.Client.Routing;

/// <summary>
/// Sends each single-key request straight to the node that leads the key's shard: keys hash (XXH64, the
/// same <c>KeyHash</c> the servers use) onto the cached shard map from <c>GET /v1/cluster</c>, whose
/// shards name their leader and whose nodes give their HTTP addresses. Anything it cannot place — no map
/// yet, no known leader, multi-key requests, retries — goes through the configured endpoints, which
/// forward to the leader themselves, so a stale map costs a hop, never correctness. A failed direct
/// attempt marks the map stale; it is refetched (at most once per <c>refreshInterval</c>) on a later request.
/// </summary>
public sealed class ShardRouteResolver : IRouteResolver, IDisposable
{
    private readonly EndpointRouteResolver _fallback;
    private readonly HttpClient _http;
    private readonly TimeSpan _refreshInterval;
    private readonly Lock _lock = new();
    private Snapshot? _map;
    private DateTime _fetchedAt = DateTime.MinValue;
    private bool _stale = true;
    private Task? _refresh;

    /// <param name="endpoints">Seed endpoints: where the map is fetched and where unplaceable requests go.</param>
    /// <param name="handler">Optional handler for fetching the map (tests); the resolver disposes nothing it did not create.</param>
    public ShardRouteResolver(IEnumerable<Uri> endpoints, HttpMessageHandler? handler = null, TimeSpan? refreshInterval = null)
    {
        _fallback = new EndpointRouteResolver(endpoints);
        _http = handler is null ? new HttpClient { Timeout = TimeSpan.FromSeconds(5) } : new HttpClient(handler, disposeHandler: false) { Timeout = TimeSpan.FromSeconds(5) };
        _refreshInterval = refreshInterval ?? TimeSpan.FromSeconds(5);
    }

    /// <summary>The leader endpoint a key would be sent to now, or null when the map cannot place it.</summary>
    public Uri? LeaderEndpointOf(byte[] key)
    {
        var map = Volatile.Read(ref _map);
        if (map is null)
            return null;
        var shard = map.Lookup.Find(key);
        return shard.Leader is { } leader && map.HttpAddresses.TryGetValue(leader, out var address) ? address : null;
    }

    public async ValueTask<Uri> SelectAsync(RouteRequest request, int attempt, CancellationToken cancellationToken)
    {
        if (request.Key is null || attempt > 0)
            return await _fallback.SelectAsync(request, attempt, cancellationToken).ConfigureAwait(false);
        var refresh = RefreshIfDue();
        if (Volatile.Read(ref _map) is null && refresh is not null)
        {
            // First use: wait for the map once rather than sending everything through a forwarding hop.
            try
            {
                await refresh.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException or ArgumentException)
            {
            }
        }
        return LeaderEndpointOf(request.Key) ?? await _fallback.SelectAsync(request, attempt, cancellationToken).ConfigureAwait(false);
    }

    public void Report(RouteRequest request, Uri endpoint, RouteOutcome outcome, Uri? leaderHint)
    {
        if (outcome != RouteOutcome.Answered || leaderHint is not null)
        {
            lock (_lock)
                _stale = true;
        }
        if (_fallback.Endpoints.Contains(new Uri(endpoint.GetLeftPart(UriPartial.Authority) + "/")))
            _fallback.Report(request, endpoint, outcome, leaderHint);
    }

    public void Dispose() => _http.Dispose();

    private Task? RefreshIfDue()
    {
        lock (_lock)
        {
            if (_refresh is { IsCompleted: false })
                return _refresh;
            bool due = _map is null || (_stale && DateTime.UtcNow - _fetchedAt >= _refreshInterval);
            if (!due)
                return null;
            _fetchedAt = DateTime.UtcNow;
            _stale = false;
            _refresh = FetchAsync(CancellationToken.None);
            return _refresh;
        }
    }

    private async Task FetchAsync(CancellationToken cancellationToken)
    {
        var seed = await _fallback.SelectAsync(new RouteRequest(null, false), 0, cancellationToken).ConfigureAwait(false);
        ClusterView? view;
        try
        {
            view = await _http.GetFromJsonAsync<ClusterView>(new Uri(seed, "v1/cluster"), WireJson.Lenient, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            _fallback.Report(new RouteRequest(null, false), seed, RouteOutcome.Unreachable, null);
            lock (_lock)
                _stale = true;
            throw;
        }
        if (view is null || view.Shards.Count == 0)
            return;
        var addresses = new Dictionary<ulong, Uri>();
        foreach (var node in view.Nodes)
            if (Uri.TryCreate(node.HttpAddress, UriKind.Absolute, out var uri))
                addresses[node.Id] = new Uri(uri.GetLeftPart(UriPartial.Authority) + "/");
        Volatile.Write(ref _map, new Snapshot(new ShardMapLookup(view.Shards), addresses));
    }

    private sealed record Snapshot(ShardMapLookup Lookup, IReadOnlyDictionary<ulong, Uri> HttpAddresses);
}
