using System.Diagnostics;
using System.Globalization;
using LsmRaft.Bench.Cli;
using LsmRaft.Bench.Metrics;
using LsmRaft.Storage.IO;

namespace LsmRaft.Bench.Fsync;

/// <summary>
/// The <c>fsync</c> command: how many append-then-fsync rounds one writer gets from the disk, through
/// the same <see cref="IFileSystem"/> path the engine's WAL and the node log use. Group commit is good when a
/// sync write rate divided by this rate exceeds 1: one fsync covered several writers. With
/// <c>--writers=N</c>, N writers each append to and fsync a file of their own at the same time (as the node
/// logs of N nodes sharing one disk do): the total rate and how long each fsync takes when they contend.
/// </summary>
internal static class FsyncBenchmark
{
    public static IReadOnlyList<string> Help { get; } =
    [
        "--num=N         append+fsync rounds per writer (default 1000)",
        "--block_size=N  bytes appended before each fsync (default 4096)",
        "--writers=N     concurrent writers, each with its own file (default 1)",
        "--db=DIR        directory for the scratch files (default ./data/bench)",
    ];

    public static int Run(Flags flags, TextWriter output)
    {
        long rounds = flags.GetInt64("num", 1000, 1, int.MaxValue);
        int blockSize = flags.GetInt32("block_size", 4096, 1, 64 * 1024 * 1024);
        int writers = flags.GetInt32("writers", 1, 1, 64);
        string dir = flags.GetString("db", "./data/bench");
        flags.RejectUnknown("fsync");

        IFileSystem fs = PhysicalFileSystem.Instance;
        fs.CreateDirectory(dir);
        var histograms = new LatencyHistogram[writers];
        var paths = Enumerable.Range(0, writers).Select(w => Path.Combine(dir, $"fsync-bench-{Environment.ProcessId}-{w}.tmp")).ToArray();
        long start = 0, finish = 0;
        using var ready = new Barrier(writers, _ => start = Stopwatch.GetTimestamp());
        try
        {
            var threads = Enumerable.Range(0, writers).Select(w => new Thread(() => histograms[w] = Write(fs, paths[w], rounds, blockSize, ready)) { Name = $"fsync-writer-{w}" }).ToList();
            threads.ForEach(t => t.Start());
            threads.ForEach(t => t.Join());
            finish = Stopwatch.GetTimestamp();
        }
        finally
        {
            foreach (string path in paths)
                if (fs.FileExists(path))
                    fs.Delete(path);
        }
        var merged = new LatencyHistogram();
        foreach (var h in histograms)
            merged.Merge(h);
        double seconds = (finish - start) / (double)Stopwatch.Frequency;
        long total = rounds * writers;
        output.WriteLine(writers == 1
            ? string.Format(CultureInfo.InvariantCulture, "fsync: {0} ops/sec, p50 {1:F1} micros", (long)(total / seconds), merged.PercentileNanos(50) / 1000)
            : string.Format(CultureInfo.InvariantCulture, "fsync: {0} ops/sec in all, {1} per writer, {2} writers at once, p50 {3:F1} micros",
                (long)(total / seconds), (long)(rounds / seconds), writers, merged.PercentileNanos(50) / 1000));
        output.WriteLine(string.Format(
            CultureInfo.InvariantCulture,
            "fsync: {0} rounds of {1} bytes per writer in {2:F3} seconds; mean {3:F1} p99 {4:F1} p99.9 {5:F1} micros; dir {6}",
            rounds, blockSize, seconds, seconds * writers / total * 1e6, merged.PercentileNanos(99) / 1000, merged.PercentileNanos(99.9) / 1000, dir));
        return 0;
    }

    /// <summary>One writer: waits for the others at <paramref name="ready"/>, then appends and fsyncs <paramref name="rounds"/> times.</summary>
    private static LatencyHistogram Write(IFileSystem fs, string path, long rounds, int blockSize, Barrier ready)
    {
        var block = new byte[blockSize];
        new Random(42).NextBytes(block);
        var histogram = new LatencyHistogram();
        using var file = fs.Create(path);
        ready.SignalAndWait();
        long last = Stopwatch.GetTimestamp();
        for (long i = 0; i < rounds; i++)
        {
            file.Append(block);
            file.Sync();
            long now = Stopwatch.GetTimestamp();
            histogram.RecordTicks(now - last);
            last = now;
        }
        return histogram;
    }
}
