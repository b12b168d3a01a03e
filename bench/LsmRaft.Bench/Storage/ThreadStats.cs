using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using LsmRaft.Bench.Metrics;

namespace LsmRaft.Bench.Storage;

/// <summary>
/// One thread's counters for one benchmark, kept as db_bench's <c>Stats</c>: an operation's latency is
/// the time since the previous operation finished (one clock read per operation), and the thread's
/// busy time runs from <see cref="Start"/> to <see cref="Stop"/>.
/// </summary>
internal sealed class ThreadStats
{
    private long _done;

    public long StartTicks { get; private set; }
    public long FinishTicks { get; private set; }
    public long LastOpTicks;
    public long Bytes;

    /// <summary>db_bench's per-thread message, e.g. "(found of read found)\n".</summary>
    public string Message = "";

    public LatencyHistogram Histogram { get; } = new();

    /// <summary>Operations finished; read concurrently by the progress display.</summary>
    public long Done => Volatile.Read(ref _done);

    public void Start()
    {
        StartTicks = Stopwatch.GetTimestamp();
        LastOpTicks = StartTicks;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void FinishedOp()
    {
        long now = Stopwatch.GetTimestamp();
        Histogram.RecordTicks(now - LastOpTicks);
        LastOpTicks = now;
        Volatile.Write(ref _done, _done + 1);
    }

    public void Stop() => FinishTicks = Stopwatch.GetTimestamp();
}

/// <summary>Every thread's stats of one benchmark merged, printed in db_bench's format.</summary>
internal sealed class BenchmarkReport
{
    private BenchmarkReport(string name, string operation, long done, long bytes, double threadSeconds, double elapsedSeconds, string message, LatencyHistogram histogram)
    {
        Name = name;
        Operation = operation;
        Done = done;
        Bytes = bytes;
        ThreadSeconds = threadSeconds;
        ElapsedSeconds = elapsedSeconds;
        Message = message;
        Histogram = histogram;
    }

    public string Name { get; }
    public string Operation { get; }
    public long Done { get; }
    public long Bytes { get; }

    /// <summary>Sum over threads of each thread's busy time: db_bench divides this by operations for micros/op.</summary>
    public double ThreadSeconds { get; }

    /// <summary>First thread's start to last thread's finish: db_bench divides operations and bytes by this.</summary>
    public double ElapsedSeconds { get; }
    public string Message { get; }
    public LatencyHistogram Histogram { get; }

    internal static BenchmarkReport Create(string name, string operation, long done, long bytes, double threadSeconds, double elapsedSeconds, string message, LatencyHistogram histogram) =>
        new(name, operation, done, bytes, threadSeconds, elapsedSeconds, message, histogram);

    public static BenchmarkReport Merge(string name, string operation, IReadOnlyList<ThreadStats> threads)
    {
        long done = 0, bytes = 0, start = long.MaxValue, finish = long.MinValue;
        double threadSeconds = 0;
        string message = "";
        var histogram = new LatencyHistogram();
        foreach (var t in threads)
        {
            done += t.Done;
            bytes += t.Bytes;
            threadSeconds += (t.FinishTicks - t.StartTicks) / (double)Stopwatch.Frequency;
            start = Math.Min(start, t.StartTicks);
            finish = Math.Max(finish, t.FinishTicks);
            // db_bench's Stats::Merge keeps the message of one thread only; so do we, so lines compare.
            if (message.Length == 0)
                message = t.Message;
            histogram.Merge(t.Histogram);
        }
        return new BenchmarkReport(name, operation, done, bytes, threadSeconds, (finish - start) / (double)Stopwatch.Frequency, message, histogram);
    }

    /// <summary>
    /// db_bench's <c>Stats::Report</c> line: <c>"%-12s : %11.3f micros/op %ld ops/sec %.3f seconds %lu operations;%s%s"</c>,
    /// where the tail is <c>"%6.1f MB/s"</c> when bytes were counted, then the message.
    /// </summary>
    public string FormatDbBenchLine()
    {
        long done = Math.Max(1, Done);
        double elapsed = ElapsedSeconds;
        string extra = Bytes > 0 ? string.Format(CultureInfo.InvariantCulture, "{0,6:F1} MB/s", Bytes / 1048576.0 / elapsed) : "";
        if (Message.Length > 0)
            extra = extra.Length > 0 ? extra + " " + Message : Message;
        return string.Format(
            CultureInfo.InvariantCulture,
            "{0,-12} : {1,11:F3} micros/op {2} ops/sec {3:F3} seconds {4} operations;{5}{6}",
            Name, ThreadSeconds * 1e6 / done, (long)(done / elapsed), elapsed, done, extra.Length > 0 ? " " : "", extra);
    }

    /// <summary>The line LsmRaft adds after each result: latency percentiles and the process's peak working set.</summary>
    public string FormatLatencyLine(double peakWorkingSetMiB) => string.Format(
        CultureInfo.InvariantCulture,
        "{0,-12} : p50 {1:F3} p99 {2:F3} p99.9 {3:F3} micros/op; peak working set {4:F1} MiB",
        Name, Histogram.PercentileNanos(50) / 1000, Histogram.PercentileNanos(99) / 1000, Histogram.PercentileNanos(99.9) / 1000, peakWorkingSetMiB);

    /// <summary>The summary db_bench prints with <c>--histogram=1</c>, in microseconds.</summary>
    public string FormatHistogram()
    {
        var h = Histogram;
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"Microseconds per {Operation}:\n");
        sb.Append(CultureInfo.InvariantCulture, $"Count: {h.Count} Average: {h.MeanNanos / 1000:F4}  StdDev: {h.StdDevNanos / 1000:F2}\n");
        sb.Append(CultureInfo.InvariantCulture, $"Min: {h.MinNanos / 1000:F3}  Median: {h.PercentileNanos(50) / 1000:F4}  Max: {h.MaxNanos / 1000:F3}\n");
        sb.Append(CultureInfo.InvariantCulture,
            $"Percentiles: P50: {h.PercentileNanos(50) / 1000:F2} P75: {h.PercentileNanos(75) / 1000:F2} P99: {h.PercentileNanos(99) / 1000:F2} P99.9: {h.PercentileNanos(99.9) / 1000:F2} P99.99: {h.PercentileNanos(99.99) / 1000:F2}\n");
        return sb.ToString();
    }
}
