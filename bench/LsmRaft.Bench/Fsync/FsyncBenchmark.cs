using System.Diagnostics;
using System.Globalization;
using LsmRaft.Bench.Cli;
using LsmRaft.Bench.Metrics;
using LsmRaft.Storage.IO;

namespace LsmRaft.Bench.Fsync;

/// <summary>
/// The <c>fsync</c> command: how many append-then-fsync rounds one writer gets from the disk, through
/// the same <see cref="IFileSystem"/> path the engine's WAL uses. Group commit is good when a sync
/// write rate divided by this rate exceeds 1: one fsync covered several writers.
/// </summary>
internal static class FsyncBenchmark
{
    public static IReadOnlyList<string> Help { get; } =
    [
        "--num=N         append+fsync rounds (default 1000)",
        "--block_size=N  bytes appended before each fsync (default 4096)",
        "--db=DIR        directory for the scratch file (default ./data/bench)",
    ];

    public static int Run(Flags flags, TextWriter output)
    {
        long rounds = flags.GetInt64("num", 1000, 1, int.MaxValue);
        int blockSize = flags.GetInt32("block_size", 4096, 1, 64 * 1024 * 1024);
        string dir = flags.GetString("db", "./data/bench");
        flags.RejectUnknown("fsync");

        IFileSystem fs = PhysicalFileSystem.Instance;
        fs.CreateDirectory(dir);
        string path = Path.Combine(dir, $"fsync-bench-{Environment.ProcessId}.tmp");
        var block = new byte[blockSize];
        new Random(42).NextBytes(block);
        var histogram = new LatencyHistogram();
        long start, finish;
        try
        {
            using var file = fs.Create(path);
            start = Stopwatch.GetTimestamp();
            long last = start;
            for (long i = 0; i < rounds; i++)
            {
                file.Append(block);
                file.Sync();
                long now = Stopwatch.GetTimestamp();
                histogram.RecordTicks(now - last);
                last = now;
            }
            finish = last;
        }
        finally
        {
            if (fs.FileExists(path))
                fs.Delete(path);
        }
        double seconds = (finish - start) / (double)Stopwatch.Frequency;
        output.WriteLine(string.Format(
            CultureInfo.InvariantCulture,
            "fsync: {0} ops/sec, p50 {1:F1} micros",
            (long)(rounds / seconds), histogram.PercentileNanos(50) / 1000));
        output.WriteLine(string.Format(
            CultureInfo.InvariantCulture,
            "fsync: {0} rounds of {1} bytes in {2:F3} seconds; p99 {3:F1} p99.9 {4:F1} micros; dir {5}",
            rounds, blockSize, seconds, histogram.PercentileNanos(99) / 1000, histogram.PercentileNanos(99.9) / 1000, dir));
        return 0;
    }
}
