using System.Diagnostics.Metrics;
using HdrHistogram;
using LsmRaft.Protocol.Monitoring;

namespace LsmRaft.Host.Monitoring;

/// <summary>
/// The node's live traffic picture for the admin UI: listens to ASP.NET Core's own request-duration instrument
/// (<c>http.server.request.duration</c> of the <c>Microsoft.AspNetCore.Hosting</c> meter, the same one
/// <c>/metrics</c> exports) of this node's web application only, keeps one HdrHistogram <see cref="Recorder"/> per
/// operation, and every <see cref="Roll"/> turns the interval into a <see cref="TrafficSample"/> (rate, p50, p99,
/// max; 429 and 503 rates; storage write stalls), keeping the last <see cref="HistoryLength"/> samples.
/// </summary>
internal sealed class TrafficMeter : IDisposable
{
    public const int HistoryLength = 120;
    private const string HostingMeter = "Microsoft.AspNetCore.Hosting";
    private const string DurationInstrument = "http.server.request.duration";
    private const long MaxMicros = 60_000_000; // requests have deadlines far below a minute; longer ones clamp

    /// <summary>The operations measured, in the order the UI shows them.</summary>
    public static readonly IReadOnlyList<string> Operations = ["get", "put", "delete", "cas", "scan", "batch"];

    private readonly ulong _nodeId;
    private readonly object _scope;
    private readonly Func<long> _writeStalls;
    private readonly MeterListener _listener = new();
    private readonly Dictionary<string, Recorder> _recorders = [];
    private readonly Dictionary<string, HistogramBase?> _recycled = [];
    private readonly Lock _historyLock = new();
    private readonly Queue<TrafficSample> _history = new();
    private long _rejected429;
    private long _unavailable503;
    private long _lastStalls;
    private DateTimeOffset _lastRoll;

    /// <param name="scope">The web application's <see cref="IMeterFactory"/>: only its meters are read (several nodes may share a process).</param>
    /// <param name="writeStalls">Total write stalls of the node's engines so far (a monotonic count).</param>
    public TrafficMeter(ulong nodeId, object scope, Func<long> writeStalls, DateTimeOffset now)
    {
        _nodeId = nodeId;
        _scope = scope;
        _writeStalls = writeStalls;
        _lastStalls = writeStalls();
        _lastRoll = now;
        foreach (var op in Operations)
        {
            _recorders[op] = new Recorder(1, MaxMicros, 2, (id, low, high, digits) => new LongConcurrentHistogram(id, low, high, digits));
            _recycled[op] = null;
        }
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == HostingMeter && instrument.Name == DurationInstrument && ReferenceEquals(instrument.Meter.Scope, _scope))
                listener.EnableMeasurementEvents(instrument, this);
        };
        _listener.SetMeasurementEventCallback<double>(static (_, seconds, tags, state) => ((TrafficMeter)state!).Record(seconds, tags));
        _listener.Start();
    }

    /// <summary>Raised after each <see cref="Roll"/> with the new sample.</summary>
    public event Action<TrafficSample>? Sampled;

    /// <summary>The kept samples, oldest first.</summary>
    public IReadOnlyList<TrafficSample> History
    {
        get { lock (_historyLock) return _history.ToArray(); }
    }

    /// <summary>The newest sample, null before the first roll.</summary>
    public TrafficSample? Latest
    {
        get { lock (_historyLock) return _history.Count == 0 ? null : _history.Last(); }
    }

    private void Record(double seconds, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        string? route = null, method = null;
        int status = 0;
        foreach (var tag in tags)
        {
            switch (tag.Key)
            {
                case "http.route": route = tag.Value as string; break;
                case "http.request.method": method = tag.Value as string; break;
                case "http.response.status_code": status = tag.Value is int s ? s : 0; break;
            }
        }
        if (status == 429)
            Interlocked.Increment(ref _rejected429);
        else if (status == 503)
            Interlocked.Increment(ref _unavailable503);
        if (OperationOf(route, method) is { } op)
            _recorders[op].RecordValue(Math.Clamp((long)(seconds * 1_000_000), 1, MaxMicros));
    }

    /// <summary>
    /// The operation a request to <paramref name="route"/> with <paramref name="method"/> performs (REST, the origin's
    /// /v0/entity, or gRPC's lsmraft.v1.Kv); null when it is not a data operation.
    /// </summary>
    internal static string? OperationOf(string? route, string? method)
    {
        if (route is null || method is null)
            return null;
        route = route.TrimEnd('/');
        const string grpcKv = "/lsmraft.v1.Kv/"; // gRPC methods share the port; their status is always 200 (errors travel in trailers)
        if (route.StartsWith(grpcKv, StringComparison.Ordinal))
            return route[grpcKv.Length..] switch
            {
                "Get" => "get", "Put" => "put", "Delete" => "delete", "CompareAndSet" => "cas", "Scan" => "scan", "Batch" => "batch", _ => null,
            };
        if (route.EndsWith("/kv/{key}/cas", StringComparison.Ordinal))
            return method == "POST" ? "cas" : null;
        if (route.EndsWith("/kv/{key}", StringComparison.Ordinal) || route.EndsWith("/v0/entity", StringComparison.Ordinal))
            return method switch { "GET" => "get", "PUT" => "put", "DELETE" => "delete", _ => null };
        if (route.EndsWith("/v1/kv", StringComparison.Ordinal))
            return method == "GET" ? "scan" : null;
        if (route.EndsWith("/v1/batch", StringComparison.Ordinal))
            return method == "POST" ? "batch" : null;
        return null;
    }

    /// <summary>Closes the interval that ends at <paramref name="now"/>: one sample into the history, and <see cref="Sampled"/>.</summary>
    public TrafficSample Roll(DateTimeOffset now)
    {
        double seconds = Math.Max((now - _lastRoll).TotalSeconds, 1e-3);
        _lastRoll = now;
        var ops = new Dictionary<string, OperationSample>(Operations.Count);
        foreach (var op in Operations)
        {
            var interval = _recorders[op].GetIntervalHistogram(_recycled[op]);
            _recycled[op] = interval;
            long count = interval.TotalCount;
            ops[op] = count == 0
                ? new OperationSample(0, 0, 0, 0, 0)
                : new OperationSample(count, count / seconds, interval.GetValueAtPercentile(50) / 1000.0, interval.GetValueAtPercentile(99) / 1000.0, interval.GetMaxValue() / 1000.0);
        }
        long stalls = _writeStalls();
        long stallDelta = Math.Max(0, stalls - _lastStalls);
        _lastStalls = stalls;
        var sample = new TrafficSample(_nodeId, now, seconds, ops,
            Interlocked.Exchange(ref _rejected429, 0) / seconds, Interlocked.Exchange(ref _unavailable503, 0) / seconds, stallDelta / seconds);
        lock (_historyLock)
        {
            _history.Enqueue(sample);
            if (_history.Count > HistoryLength)
                _history.Dequeue();
        }
        Sampled?.Invoke(sample);
        return sample;
    }

    public void Dispose() => _listener.Dispose();
}
