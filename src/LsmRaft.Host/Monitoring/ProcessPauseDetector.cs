using System.Diagnostics.Metrics;

namespace LsmRaft.Host.Monitoring;

/// <summary>The garbage collector's own figures at one instant (process-wide), or their change over a window.</summary>
internal readonly record struct GcCounts(TimeSpan PauseTotal, int Gen0, int Gen1, int Gen2)
{
    /// <summary>The runtime's figures now: total time the GC suspended managed threads, collections per generation.</summary>
    public static GcCounts Now() => new(GC.GetTotalPauseDuration(), GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2));

    public static GcCounts operator -(GcCounts later, GcCounts earlier) =>
        new(later.PauseTotal - earlier.PauseTotal, later.Gen0 - earlier.Gen0, later.Gen1 - earlier.Gen1, later.Gen2 - earlier.Gen2);
}

/// <summary>One wake of the detector: how late it woke (<see cref="Pause"/>), and what the GC did since the previous wake.</summary>
internal readonly record struct PauseSample(TimeSpan Pause, TimeSpan Window, GcCounts Gc);

/// <summary>
/// The process pause detector (as Cassandra's and HBase's JVM pause monitors): one dedicated background thread waits
/// <see cref="Interval"/> in a loop and measures how late it wakes. Oversleep is time the whole process did not run —
/// a GC suspension, or the machine's CPUs busy with other processes (the OS did not schedule this thread). The GC's own
/// pause time over the same window tells the two apart. A pause of <see cref="Threshold"/> or more logs one warning;
/// every wake's oversleep is recorded in <c>lsmraft.process.pause</c> (seconds, histogram), the largest since the start
/// in <c>lsmraft.process.pause.max</c>, and the GC's totals in <c>lsmraft.process.gc.pause</c> and
/// <c>lsmraft.process.gc.collections</c> (by generation). Meter <see cref="MeterName"/>.
/// </summary>
internal sealed class ProcessPauseDetector : IDisposable
{
    public const string MeterName = "LsmRaft.Process";

    public static readonly TimeSpan DefaultInterval = TimeSpan.FromMilliseconds(100);
    public static readonly TimeSpan DefaultThreshold = TimeSpan.FromSeconds(1);

    private readonly TimeProvider _time;
    private readonly Func<GcCounts> _gc;
    private readonly ILogger _logger;
    private readonly Histogram<double>? _pauses;
    private readonly CancellationTokenSource _stop = new();
    private Thread? _thread;
    // The previous wake; only the detector's thread (or a test calling Step) touches them.
    private long _lastWake;
    private GcCounts _lastGc;
    private long _maxPauseTicks; // read by metric collection on another thread: Interlocked/Volatile

    /// <summary>A detector whose wakes are driven by <see cref="Step"/>; <see cref="Start"/> runs one on its own thread.</summary>
    internal ProcessPauseDetector(TimeProvider time, Func<GcCounts> gc, ILogger logger, IMeterFactory? meters, TimeSpan interval, TimeSpan threshold)
    {
        if (interval <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(interval), interval, "the wake interval must be positive");
        if (threshold <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(threshold), threshold, "the warning threshold must be positive");
        _time = time;
        _gc = gc;
        _logger = logger;
        Interval = interval;
        Threshold = threshold;
        _lastWake = time.GetTimestamp();
        _lastGc = gc();
        if (meters is not null)
        {
            var meter = meters.Create(MeterName);
            _pauses = meter.CreateHistogram<double>("lsmraft.process.pause", "s", "How late the pause detector woke, per wake (the whole process did not run)",
                advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10] });
            meter.CreateObservableGauge("lsmraft.process.pause.max", () => MaxPause.TotalSeconds, "s", "The longest process pause seen since the node started");
            meter.CreateObservableCounter("lsmraft.process.gc.pause", () => _gc().PauseTotal.TotalSeconds, "s", "Time the GC suspended the process since it started");
            meter.CreateObservableCounter("lsmraft.process.gc.collections", ObserveCollections, "{collection}", "GC collections since the process started, by generation");
        }
    }

    public TimeSpan Interval { get; }

    public TimeSpan Threshold { get; }

    /// <summary>The longest pause measured so far.</summary>
    public TimeSpan MaxPause => TimeSpan.FromTicks(Volatile.Read(ref _maxPauseTicks));

    /// <summary>True while the detector's thread runs.</summary>
    internal bool Running => _thread?.IsAlive == true;

    /// <summary>Starts a detector on a dedicated background thread with the default interval and threshold.</summary>
    public static ProcessPauseDetector Start(ILogger logger, IMeterFactory? meters)
    {
        var detector = new ProcessPauseDetector(TimeProvider.System, GcCounts.Now, logger, meters, DefaultInterval, DefaultThreshold);
        // Its own thread, not the thread pool: a starved pool must show up as nothing but itself, and a pool work item
        // would measure the pool's queueing on top of the process's pauses.
        detector._thread = new Thread(detector.Run) { IsBackground = true, Name = "lsmraft-pause-detector" };
        detector._thread.Start();
        return detector;
    }

    /// <summary>
    /// One wake: measures the time since the previous wake, less <see cref="Interval"/>, as the pause (never negative),
    /// and the GC's change over that window; records them and warns when the pause reaches <see cref="Threshold"/>.
    /// </summary>
    internal PauseSample Step()
    {
        long now = _time.GetTimestamp();
        var gc = _gc();
        var window = _time.GetElapsedTime(_lastWake, now);
        var pause = window > Interval ? window - Interval : TimeSpan.Zero;
        var sample = new PauseSample(pause, window, gc - _lastGc);
        _lastWake = now;
        _lastGc = gc;

        _pauses?.Record(pause.TotalSeconds);
        if (pause.Ticks > Volatile.Read(ref _maxPauseTicks))
            Volatile.Write(ref _maxPauseTicks, pause.Ticks); // one writer: the detector's thread
        if (pause >= Threshold)
            _logger.LogWarning("Process paused {Pause:F1} s (GC pauses {GcPause:F1} s in that window, gen0/gen1/gen2 collections {Gen0}/{Gen1}/{Gen2}); "
                + "beyond the GC's share, the machine did not run this process (CPUs busy with other work, VM steal, swapping)",
                pause.TotalSeconds, sample.Gc.PauseTotal.TotalSeconds, sample.Gc.Gen0, sample.Gc.Gen1, sample.Gc.Gen2);
        return sample;
    }

    private void Run()
    {
        var stop = _stop.Token.WaitHandle;
        _lastWake = _time.GetTimestamp();
        _lastGc = _gc();
        while (!stop.WaitOne(Interval))
            Step();
    }

    private IEnumerable<Measurement<long>> ObserveCollections()
    {
        var gc = _gc();
        return
        [
            new(gc.Gen0, new KeyValuePair<string, object?>("generation", "gen0")),
            new(gc.Gen1, new KeyValuePair<string, object?>("generation", "gen1")),
            new(gc.Gen2, new KeyValuePair<string, object?>("generation", "gen2")),
        ];
    }

    /// <summary>Stops the thread and waits for it to end (at most one wake).</summary>
    public void Dispose()
    {
        _stop.Cancel();
        _thread?.Join();
        _stop.Dispose();
    }
}
