using System.Globalization;
using System.Runtime.InteropServices;
using LsmRaft.Bench.Cli;
using LsmRaft.Bench.Metrics;
using LsmRaft.Storage;

namespace LsmRaft.Bench.Storage;

/// <summary>
/// The <c>storage</c> command: db_bench's fillseq, fillrandom, overwrite, readrandom, readseq and
/// seekrandom against <see cref="LsmEngine"/>, with db_bench's keys, values, random sequences,
/// per-thread operation counts and report format, so its lines sit beside db_bench's.
/// </summary>
internal sealed class StorageBenchmark : IDisposable
{
    /// <summary>Written into a database directory this program created, so it only ever deletes its own directories.</summary>
    private const string MarkerFile = ".lsmraft-bench";

    private readonly StorageSettings _settings;
    private readonly TextWriter _out;
    private readonly byte[] _valueData;
    private readonly ulong _seedBase;
    private LsmEngine? _engine;
    private readonly Akka.Actor.ActorSystem? _akka;
    private readonly LsmRaft.Actors.Background.BackgroundPipelines? _pipelines;

    // db_bench seeds each thread with seed base + the number of threads started so far in this
    // process (counting from 1), so the n-th thread of a run always draws the same keys.
    private ulong _threadsStarted;

    public StorageBenchmark(StorageSettings settings, TextWriter output)
    {
        _settings = settings;
        _out = output;
        _valueData = DbBenchData.CompressibleValueData(settings.ValueSize, settings.CompressionRatio);
        if (settings.Scheduler == SchedulerKind.Akka)
        {
            // As a node runs it: default pipeline settings (compaction parallelism = the engine's process-wide limiter).
            _akka = Akka.Actor.ActorSystem.Create("bench", "akka.loglevel = WARNING");
            _pipelines = new LsmRaft.Actors.Background.BackgroundPipelines(_akka, new LsmRaft.Actors.Background.BackgroundSettings());
        }
        if (settings.Seed != 0)
        {
            _seedBase = (ulong)settings.Seed;
        }
        else
        {
            _seedBase = (ulong)(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000);
            _out.WriteLine($"Set seed to {_seedBase} because --seed was 0");
        }
    }

    public void Run()
    {
        PrintHeader();
        if (!_settings.UseExistingDb)
            DestroyDatabase();
        else if (!Directory.Exists(_settings.Db) || Directory.GetFileSystemEntries(_settings.Db).Length == 0)
            throw new FlagException("use_existing_db", $"--db={_settings.Db} holds no database to reuse; run a fill benchmark first or drop --use_existing_db");
        OpenDatabase();

        foreach (var (name, kind) in _settings.Benchmarks)
        {
            if (kind is BenchmarkKind.FillSeq or BenchmarkKind.FillRandom)
            {
                if (_settings.UseExistingDb)
                {
                    _out.WriteLine($"{name,-12} : skipped (--use_existing_db is true)");
                    continue;
                }
                _engine!.Dispose();
                _engine = null;
                DestroyDatabase();
                OpenDatabase();
            }
            var report = RunOne(name, kind);
            _out.WriteLine(report.FormatDbBenchLine());
            _out.WriteLine(report.FormatLatencyLine(PeakMemory.PeakWorkingSetMiB()));
            if (_settings.Histogram)
                _out.WriteLine(report.FormatHistogram());
            _out.Flush();
        }
    }

    public void Dispose()
    {
        _engine?.Dispose();
        _engine = null;
        _pipelines?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _akka?.Terminate().GetAwaiter().GetResult();
    }

    private BenchmarkReport RunOne(string name, BenchmarkKind kind)
    {
        var engine = _engine!;
        int threads = _settings.Threads;
        var stats = new ThreadStats[threads];
        var seeds = new ulong[threads];
        for (int i = 0; i < threads; i++)
        {
            stats[i] = new ThreadStats();
            seeds[i] = _seedBase + ++_threadsStarted;
        }

        using var ready = new CountdownEvent(threads);
        using var go = new ManualResetEventSlim(false);
        using var finished = new CountdownEvent(threads);
        var failures = new Exception?[threads];
        var workers = new Thread[threads];
        for (int i = 0; i < threads; i++)
        {
            int id = i;
            workers[i] = new Thread(() =>
            {
                bool signalled = false;
                try
                {
                    // Everything a thread needs is allocated before the start signal, outside the timing.
                    var worker = new Worker(engine, _settings, stats[id], seeds[id], _valueData);
                    ready.Signal();
                    signalled = true;
                    go.Wait();
                    stats[id].Start();
                    worker.Run(kind);
                    stats[id].Stop();
                }
                catch (Exception e)
                {
                    failures[id] = e;
                    if (!signalled)
                        ready.Signal();
                }
                finally
                {
                    finished.Signal();
                }
            })
            {
                IsBackground = true,
                Name = $"bench-{name}-{id}",
            };
            workers[i].Start();
        }

        ready.Wait();
        go.Set();
        long expected = kind is BenchmarkKind.FillSeq or BenchmarkKind.FillRandom or BenchmarkKind.Overwrite
            ? _settings.Num * threads
            : _settings.Reads * threads;
        ProgressDisplay.WaitShowingProgress(name, expected, stats, finished.WaitHandle);
        foreach (var w in workers)
            w.Join();
        foreach (var failure in failures)
        {
            if (failure is not null)
                throw new BenchmarkFailedException(name, failure);
        }
        string operation = kind switch
        {
            BenchmarkKind.ReadRandom or BenchmarkKind.ReadSeq => "read",
            BenchmarkKind.SeekRandom => "seek",
            _ => "write",
        };
        return BenchmarkReport.Merge(name, operation, stats);
    }

    private void OpenDatabase()
    {
        Directory.CreateDirectory(_settings.Db);
        bool fresh = Directory.GetFileSystemEntries(_settings.Db).Length == 0;
        _engine = LsmEngine.Open(_settings.Db, _settings.EngineOptions(_pipelines));
        if (fresh)
            File.WriteAllText(Path.Combine(_settings.Db, MarkerFile), "created by LsmRaft.Bench; deleted with the database\n");
        _out.WriteLine($"DB path: [{_settings.Db}]");
    }

    /// <summary>db_bench's DestroyDB, limited to directories that are empty or that this program created.</summary>
    private void DestroyDatabase()
    {
        string dir = _settings.Db;
        if (!Directory.Exists(dir) || Directory.GetFileSystemEntries(dir).Length == 0)
            return;
        if (!File.Exists(Path.Combine(dir, MarkerFile)))
            throw new FlagException("db", $"'{dir}' is not empty and was not created by this benchmark, so it will not be deleted; choose a new or empty directory");
        Directory.Delete(dir, recursive: true);
    }

    private void PrintHeader()
    {
        var s = _settings;
        double rawMiB = (double)(s.KeySize + s.ValueSize) * s.Num / 1048576.0;
        _out.WriteLine($"LsmRaft:    LsmRaft.Storage on {RuntimeInformation.FrameworkDescription} ({RuntimeInformation.OSDescription})");
        _out.WriteLine($"Date:       {DateTime.Now.ToString("ddd MMM d HH:mm:ss yyyy", CultureInfo.InvariantCulture)}");
        _out.WriteLine($"CPU:        {Environment.ProcessorCount} * {CpuModel()}");
        _out.WriteLine($"Keys:       {s.KeySize} bytes each");
        _out.WriteLine($"Values:     {s.ValueSize} bytes each (db_bench data compressible to {s.CompressionRatio.ToString(CultureInfo.InvariantCulture)}; stored uncompressed)");
        _out.WriteLine($"Entries:    {s.Num}");
        _out.WriteLine(string.Format(CultureInfo.InvariantCulture, "RawSize:    {0:F1} MB (estimated)", rawMiB));
        _out.WriteLine(string.Format(CultureInfo.InvariantCulture, "FileSize:   {0:F1} MB (estimated)", rawMiB));
        _out.WriteLine("Compression: NoCompression");
        _out.WriteLine($"Sync:       {(s.Sync ? "1 (SyncMode.GroupCommit: every write fsynced)" : "0 (SyncMode.None)")}");
        _out.WriteLine($"Threads:    {s.Threads}");
        _out.WriteLine($"Background: {(s.Scheduler == SchedulerKind.Akka ? "Akka.Streams pipelines (LsmRaft.Actors.Background)" : "the engine's own flush thread and compaction loop")}");
        _out.WriteLine($"Memtable:   {s.WriteBufferSize} bytes (FlushThresholdBytes)");
        _out.WriteLine($"BlockCache: {s.CacheSize} bytes");
        _out.WriteLine(string.Format(CultureInfo.InvariantCulture, "Bloom:      false-positive rate {0:G4}{1}", s.BloomFpp, s.BloomBits is int b ? $" (from --bloom_bits={b})" : ""));
        _out.WriteLine("------------------------------------------------");
    }

    private static string CpuModel()
    {
        try
        {
            if (File.Exists("/proc/cpuinfo"))
            {
                foreach (var line in File.ReadLines("/proc/cpuinfo"))
                {
                    if (line.StartsWith("model name", StringComparison.Ordinal))
                        return line[(line.IndexOf(':') + 1)..].Trim();
                }
            }
        }
        catch (IOException)
        {
            // The header is informational; an unreadable /proc only loses the model name.
        }
        return RuntimeInformation.ProcessArchitecture.ToString();
    }
}

/// <summary>A benchmark thread threw; carries the benchmark's name.</summary>
internal sealed class BenchmarkFailedException(string benchmark, Exception inner)
    : Exception($"benchmark {benchmark} failed: {inner.Message}", inner)
{
    public string Benchmark { get; } = benchmark;
}
