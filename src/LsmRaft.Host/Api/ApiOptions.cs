namespace LsmRaft.Host.Api;

/// <summary>Limits and settings of the HTTP API (from <see cref="Config.NodeConfig"/> on a node).</summary>
public sealed record ApiOptions
{
    /// <summary>Requests being served at once on this node; the next one is answered 429 at once, never queued.</summary>
    public int MaxInFlightRequests { get; init; } = 1024;

    public int MaxKeyBytes { get; init; } = 64 * 1024;

    public int MaxValueBytes { get; init; } = 1024 * 1024;

    /// <summary>Largest request body; also Kestrel's MaxRequestBodySize. Leaves room for a base64url value in JSON.</summary>
    public long MaxBodyBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>The Retry-After (seconds) sent with 429 and 503.</summary>
    public int RetryAfterSeconds { get; init; } = 1;

    public int DefaultScanLimit { get; init; } = 100;

    public int MaxScanLimit { get; init; } = 1000;

    /// <summary>Operations per batch.</summary>
    public int MaxBatchOperations { get; init; } = 10_000;

    /// <summary>When set, admin endpoints require <c>Authorization: Bearer &lt;token&gt;</c>.</summary>
    public string? AdminToken { get; init; }
}
