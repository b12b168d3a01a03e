using LsmRaft.Client.Routing;

namespace LsmRaft.Client;

/// <summary>Settings of an <see cref="LsmRaftClient"/>.</summary>
public sealed class LsmRaftClientOptions
{
    /// <summary>The HTTP endpoints of cluster nodes (any node serves any key); gRPC uses the same addresses.</summary>
    public IList<Uri> Endpoints { get; init; } = [new Uri("http://127.0.0.1:8081")];

    /// <summary>How key-value and cluster requests travel; admin requests always use REST.</summary>
    public LsmRaftTransport Transport { get; init; } = LsmRaftTransport.Http;

    /// <summary>The deadline of one call, retries included.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    public LsmRaftRetryPolicy Retry { get; init; } = new();

    /// <summary>
    /// The handler requests go through; for tests (an in-process server) or custom transports. The client does not
    /// dispose it. When null the client owns one pooled <see cref="SocketsHttpHandler"/>.
    /// </summary>
    public HttpMessageHandler? Handler { get; init; }

    /// <summary>How long a pooled connection lives before it is replaced, so DNS and membership changes are seen.</summary>
    public TimeSpan PooledConnectionLifetime { get; init; } = TimeSpan.FromMinutes(2);

    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>Chooses the endpoint of each attempt; null = <see cref="EndpointRouteResolver"/> over <see cref="Endpoints"/>.</summary>
    public IRouteResolver? RouteResolver { get; init; }

    /// <summary>Items per scan page requested from the server (1–1000).</summary>
    public int ScanPageSize { get; init; } = 256;

    /// <summary>Sent as the Authorization bearer token on admin requests when the cluster requires one.</summary>
    public string? AdminToken { get; init; }
}

/// <summary>The protocol an <see cref="LsmRaftClient"/> speaks to the nodes' HTTP port.</summary>
public enum LsmRaftTransport
{
    /// <summary>REST/JSON under /v1 (HTTP/1.1).</summary>
    Http,

    /// <summary>gRPC (package lsmraft.v1) over HTTP/2 without TLS, on the same port.</summary>
    Grpc,
}

/// <summary>
/// Retries with exponential backoff and jitter: the delay before retry n (1-based) is
/// min(<see cref="MaxBackoff"/>, <see cref="InitialBackoff"/> · <see cref="Multiplier"/>^(n-1)), scaled by a random factor in
/// [1 - <see cref="Jitter"/>, 1], or the server's Retry-After when that is longer (capped by <see cref="MaxRetryAfter"/>);
/// never past the call's deadline.
/// </summary>
public sealed class LsmRaftRetryPolicy
{
    /// <summary>Attempts per call including the first; 1 disables retries.</summary>
    public int MaxAttempts { get; init; } = 6;

    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(50);

    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(2);

    public double Multiplier { get; init; } = 2.0;

    /// <summary>Fraction of the delay that is randomized, in [0, 1].</summary>
    public double Jitter { get; init; } = 0.5;

    /// <summary>The longest server Retry-After the client honours.</summary>
    public TimeSpan MaxRetryAfter { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Seed of the jitter's random source, for reproducible tests; null = unpredictable.</summary>
    public int? Seed { get; init; }

    internal void Validate()
    {
        if (MaxAttempts < 1)
            throw new ArgumentOutOfRangeException(nameof(MaxAttempts), MaxAttempts, "MaxAttempts must be at least 1.");
        if (InitialBackoff < TimeSpan.Zero || MaxBackoff < InitialBackoff)
            throw new ArgumentOutOfRangeException(nameof(MaxBackoff), MaxBackoff, "Backoffs must satisfy 0 <= InitialBackoff <= MaxBackoff.");
        if (Multiplier < 1.0)
            throw new ArgumentOutOfRangeException(nameof(Multiplier), Multiplier, "Multiplier must be at least 1.");
        if (Jitter is < 0.0 or > 1.0)
            throw new ArgumentOutOfRangeException(nameof(Jitter), Jitter, "Jitter must be within [0, 1].");
        if (MaxRetryAfter < TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(MaxRetryAfter), MaxRetryAfter, "MaxRetryAfter must not be negative.");
    }
}
