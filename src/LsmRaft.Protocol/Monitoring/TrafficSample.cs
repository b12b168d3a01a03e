namespace LsmRaft.Protocol.Monitoring;

/// <summary>
/// One node's API traffic over one interval (normally one second): per operation the requests finished, their
/// rate and latency percentiles, plus the rejections (429 overloaded, 503 unavailable) and the storage write stalls.
/// </summary>
/// <param name="End">When the interval ended.</param>
/// <param name="Operations">By operation name: get, put, delete, cas, scan, batch (the origin's /v0/entity counts as get/put/delete).</param>
public sealed record TrafficSample(
    ulong NodeId,
    DateTimeOffset End,
    double Seconds,
    IReadOnlyDictionary<string, OperationSample> Operations,
    double Rejected429PerSecond,
    double Unavailable503PerSecond,
    double WriteStallsPerSecond);

/// <summary>An operation's requests in an interval: how many, per second, and their latency (milliseconds, from HdrHistogram).</summary>
public sealed record OperationSample(long Count, double PerSecond, double P50Ms, double P99Ms, double MaxMs);

/// <summary>A node's traffic samples, oldest first (<c>GET /v1/node/traffic</c>: the last two minutes).</summary>
public sealed record TrafficHistory(ulong NodeId, IReadOnlyList<TrafficSample> Samples);
