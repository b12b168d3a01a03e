using LsmRaft.Bench.Cli;
using LsmRaft.Storage;
using LsmRaft.Storage.Cache;

namespace LsmRaft.Bench.Storage;

/// <summary>Who runs the engine's flushes and compactions.</summary>
internal enum SchedulerKind
{
    /// <summary>The engine's own: a flush thread and a compaction loop (LsmOptions.BackgroundScheduler = null).</summary>
    Engine,

    /// <summary>A node's Akka.Streams pipelines (LsmRaft.Actors.Background) on an actor system of this process.</summary>
    Akka,
}

internal enum BenchmarkKind
{
    FillSeq,
    FillRandom,
    Overwrite,
    ReadRandom,
    ReadSeq,
    SeekRandom,
}

/// <summary>The <c>storage</c> command's flags, named and defaulted as db_bench's where db_bench has them.</summary>
internal sealed record StorageSettings
{
    public const string DefaultBenchmarks = "fillseq,fillrandom,overwrite,readrandom,readseq,seekrandom";

    /// <summary>Small enough that the README's command finishes in seconds; db_bench's own default is 1000000.</summary>
    public const long DefaultNum = 200_000;

    public const string DefaultDb = "./data/bench";

    public required IReadOnlyList<(string Name, BenchmarkKind Kind)> Benchmarks { get; init; }
    public required long Num { get; init; }
    public required long Reads { get; init; }
    public required int KeySize { get; init; }
    public required int ValueSize { get; init; }
    public required int Threads { get; init; }
    public required bool Sync { get; init; }
    public required long WriteBufferSize { get; init; }
    public required long CacheSize { get; init; }

    /// <summary>Bloom filter bits per key as db_bench takes them; null when <see cref="BloomFpp"/> or the engine default applies.</summary>
    public int? BloomBits { get; init; }
    public required double BloomFpp { get; init; }
    public required bool UseExistingDb { get; init; }
    public required long Seed { get; init; }
    public required bool Histogram { get; init; }
    public required int SeekNexts { get; init; }
    public required double CompressionRatio { get; init; }
    public required string Db { get; init; }
    public SchedulerKind Scheduler { get; init; } = SchedulerKind.Engine;

    public static IReadOnlyList<string> Help { get; } =
    [
        "--benchmarks=LIST        comma-separated, run in order (default " + DefaultBenchmarks + ")",
        "--num=N                  keys in the key space and writes per thread (default 200000)",
        "--reads=N                reads, seeks or scanned entries per thread; -1 means --num (default -1)",
        "--key_size=N             bytes per key (default 16)",
        "--value_size=N           bytes per value (default 100)",
        "--threads=N              concurrent threads, each doing the full count of operations (default 1)",
        "--sync=0|1               1: every write fsynced (group commit); 0: no fsync (default 0)",
        "--write_buffer_size=N    memtable bytes before a flush (LsmOptions.FlushThresholdBytes; default 4194304)",
        "--cache_size=N           block cache bytes (default 8388608)",
        "--bloom_bits=N           Bloom bits per key, mapped to the false-positive rate exp(-N·ln²2)",
        "--bloom_fpp=P            Bloom false-positive rate directly (default 0.02); not with --bloom_bits",
        "--use_existing_db=0|1    reuse the database in --db; fill benchmarks are skipped (default 0)",
        "--seed=N                 random seed base; 0 derives one from the clock and prints it (default 0)",
        "--histogram=0|1          print the latency distribution of each benchmark (default 0)",
        "--seek_nexts=N           Next() calls after each Seek() in seekrandom (default 0)",
        "--compression_ratio=R    make values db_bench-compressible to R (default 0.5; stored uncompressed)",
        "--db=DIR                 database directory (default ./data/bench)",
        "--scheduler=engine|akka  who runs flushes and compactions: the engine's own threads, or the node's Akka.Streams pipelines (default engine)",
    ];

    public static StorageSettings Parse(Flags flags)
    {
        string list = flags.GetString("benchmarks", DefaultBenchmarks);
        var benchmarks = new List<(string, BenchmarkKind)>();
        foreach (var raw in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            BenchmarkKind kind = raw switch
            {
                "fillseq" => BenchmarkKind.FillSeq,
                "fillrandom" => BenchmarkKind.FillRandom,
                "overwrite" => BenchmarkKind.Overwrite,
                "readrandom" => BenchmarkKind.ReadRandom,
                "readseq" => BenchmarkKind.ReadSeq,
                "seekrandom" => BenchmarkKind.SeekRandom,
                _ => throw new FlagException("benchmarks", $"unknown benchmark '{raw}'; supported: {DefaultBenchmarks}"),
            };
            benchmarks.Add((raw, kind));
        }
        if (benchmarks.Count == 0)
            throw new FlagException("benchmarks", "names no benchmark");

        long num = flags.GetInt64("num", DefaultNum, 1, long.MaxValue / 2);
        long reads = flags.GetInt64("reads", -1, -1, long.MaxValue / 2);
        int? bloomBits = flags.Has("bloom_bits") ? flags.GetInt32("bloom_bits", 10, 2, 64) : null;
        double? bloomFpp = flags.GetDouble("bloom_fpp", 0, 0.5);
        if (bloomBits is not null && bloomFpp is not null)
            throw new FlagException("bloom_fpp", "give either --bloom_bits or --bloom_fpp, not both");
        var defaults = new LsmOptions();

        var settings = new StorageSettings
        {
            Benchmarks = benchmarks,
            Num = num,
            Reads = reads < 0 ? num : reads,
            KeySize = flags.GetInt32("key_size", 16, 1, Limits.MaxKeySize),
            ValueSize = flags.GetInt32("value_size", 100, 0, Limits.MaxValueSize),
            Threads = flags.GetInt32("threads", 1, 1, 1024),
            Sync = flags.GetBool("sync", false),
            WriteBufferSize = flags.GetInt64("write_buffer_size", defaults.FlushThresholdBytes, 1, long.MaxValue),
            CacheSize = flags.GetInt64("cache_size", 8L * 1024 * 1024, 0, long.MaxValue),
            BloomBits = bloomBits,
            BloomFpp = bloomFpp ?? (bloomBits is int bits ? Math.Exp(-bits * Math.Log(2) * Math.Log(2)) : defaults.BloomFalsePositiveRate),
            UseExistingDb = flags.GetBool("use_existing_db", false),
            Seed = flags.GetInt64("seed", 0, 0, long.MaxValue),
            Histogram = flags.GetBool("histogram", false),
            SeekNexts = flags.GetInt32("seek_nexts", 0, 0, int.MaxValue),
            CompressionRatio = flags.GetDouble("compression_ratio", 0, 1) ?? 0.5,
            Db = flags.GetString("db", DefaultDb),
            Scheduler = flags.GetString("scheduler", "engine") switch
            {
                "engine" => SchedulerKind.Engine,
                "akka" => SchedulerKind.Akka,
                var other => throw new FlagException("scheduler", $"is '{other}': expected engine or akka"),
            },
        };
        flags.RejectUnknown("storage");

        try
        {
            settings.EngineOptions().Validate();
        }
        catch (InvalidOptionException e)
        {
            string flag = e.Option switch
            {
                nameof(LsmOptions.FlushThresholdBytes) => "write_buffer_size",
                nameof(LsmOptions.BloomFalsePositiveRate) => bloomFpp is null ? "bloom_bits" : "bloom_fpp",
                _ => e.Option,
            };
            throw new FlagException(flag, e.Message);
        }
        return settings;
    }

    /// <summary>
    /// <c>--sync=1</c> maps to group commit: every acknowledged write is fsynced, and concurrent writers
    /// share fsyncs, which is what RocksDB does with <c>WriteOptions.sync</c> and several writer threads.
    /// </summary>
    public LsmOptions EngineOptions(IBackgroundScheduler? scheduler = null) => new()
    {
        BackgroundScheduler = scheduler,
        FlushThresholdBytes = WriteBufferSize,
        BloomFalsePositiveRate = BloomFpp,
        BlockCache = new BlockCache(CacheSize),
        Sync = Sync ? SyncMode.GroupCommit : SyncMode.None,
    };
}
