namespace LsmRaft.Client.Routing;

/// <summary>What a request addresses, so a resolver can pick the node best placed to serve it.</summary>
/// <param name="Key">The key of a single-key request; null for requests that span keys (scan, batch, cluster, admin).</param>
/// <param name="IsWrite">True for requests that change data (they must reach the shard leader).</param>
public readonly record struct RouteRequest(byte[]? Key, bool IsWrite);

/// <summary>How one attempt at an endpoint went.</summary>
public enum RouteOutcome
{
    /// <summary>The endpoint answered (with a value or a definite error such as 404 or 409).</summary>
    Answered,

    /// <summary>No connection could be made or it broke before an answer.</summary>
    Unreachable,

    /// <summary>The endpoint answered 429 or 503: alive but unable to serve now.</summary>
    Unavailable,
}

/// <summary>
/// Chooses the endpoint for each attempt of a request. Any node serves any key (it forwards to the shard leader), so
/// a resolver only affects latency, never correctness: the default sends to the configured endpoints in turn, and a
/// resolver that hashes keys onto the cached shard map can send each request straight to the leader's node.
/// Implementations are called concurrently and must be thread-safe.
/// </summary>
public interface IRouteResolver
{
    /// <summary>The endpoint (base URI) for attempt <paramref name="attempt"/> (0 = first) of <paramref name="request"/>.</summary>
    ValueTask<Uri> SelectAsync(RouteRequest request, int attempt, CancellationToken cancellationToken);

    /// <summary>
    /// Reports how an attempt went; <paramref name="leaderHint"/> is the endpoint the server named in its
    /// <c>LsmRaft-Leader</c> header, when it did.
    /// </summary>
    void Report(RouteRequest request, Uri endpoint, RouteOutcome outcome, Uri? leaderHint);
}
