namespace LsmRaft.Host.Node;

/// <summary>
/// What the router did for the HTTP request in flight: the node it forwarded a single-shard operation to,
/// if not this one. The API answers with that node's address in the <c>LsmRaft-Leader</c> header, so a client
/// that routes by its cached shard map learns that the map is stale (a leader moved, a shard split) and
/// refreshes it. One instance per request, shared through an async-local (the router writes, the response reads).
/// </summary>
internal sealed class RouteTrace
{
    private static readonly AsyncLocal<RouteTrace?> CurrentTrace = new();

    public static RouteTrace? Current => CurrentTrace.Value;

    /// <summary>The node that answered a forwarded operation; 0 when it ran here or was not a single-shard operation.</summary>
    public ulong ForwardedTo { get; set; }

    /// <summary>Starts tracing the current request (call at its start, before any await of the handler).</summary>
    public static RouteTrace Begin() => CurrentTrace.Value = new RouteTrace();
}
