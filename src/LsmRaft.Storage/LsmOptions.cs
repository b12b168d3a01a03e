using LsmRaft.Storage.Cache;
using LsmRaft.Storage.IO;

namespace LsmRaft.Storage;

/// <summary>When a write is made durable before it is acknowledged.</summary>
public enum SyncMode
{
    /// <summary>Writes reach the operating system before acknowledgement (survive a process crash) but are not fsynced.</summary>
    None,

    /// <summary>Every write is fsynced on its own before acknowledgement; concurrent writers do not share fsyncs. Slowest; for comparison.</summary>
    EveryWrite,

    /// <summary>Every write is fsynced before acknowledgement; concurrent writers are batched so one fsync covers the group.</summary>
    GroupCommit,
}

/// <summary>
/// Engine options. Every option has a documented default and is validated by <see cref="Validate"/>
/// (called by <see cref="LsmEngine.Open"/>), which names the offending option.
/// </summary>
public sealed record LsmOptions
{
    /// <summary>The smallest <see cref="FlushThresholdBytes"/>: any positive size works, as in the origin (a tiny memtable flushes often).</summary>
    public const long MinFlushThresholdBytes = 1;

    /// <summary>The largest <see cref="FlushThresholdBytes"/>: 1 GiB.</summary>
    public const long MaxFlushThresholdBytes = 1L << 30;

    /// <summary>
    /// The one rule for a flush threshold, used by <see cref="Validate"/> and by the node's configuration validator,
    /// so a value the configuration accepts is never refused by the engine.
    /// </summary>
    public static bool IsValidFlushThreshold(long bytes) => bytes is >= MinFlushThresholdBytes and <= MaxFlushThresholdBytes;

    /// <summary>
    /// Memtable size that triggers a flush to an SSTable (origin: <c>FLUSH_THRESHOLD_BYTES</c>). Default 4 MiB;
    /// <see cref="MinFlushThresholdBytes"/> to <see cref="MaxFlushThresholdBytes"/>. Small values give small L0 tables that
    /// compaction merges as usual (L0 is bounded by <see cref="Level0StopTrigger"/>).
    /// </summary>
    public long FlushThresholdBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>Target false-positive rate of each table's Bloom filter (origin: <c>BLOOM_FPP</c>). Default 0.02; (0, 0.5].</summary>
    public double BloomFalsePositiveRate { get; init; } = 0.02;

    /// <summary>Hash functions per key (origin: <c>BLOOM_HASH_FUNCS</c>); null means the optimal count for the rate. 1 to 30.</summary>
    public int? BloomHashFunctions { get; init; }

    /// <summary>Uncompressed size of an SSTable data block. Default 4 KiB; 1 KiB to 1 MiB.</summary>
    public int BlockSize { get; init; } = 4096;

    /// <summary>Keys between restart points inside a data block. Default 16; 1 to 1024.</summary>
    public int BlockRestartInterval { get; init; } = 16;

    /// <summary>A block cache, which several engines may share; null gives the engine a private 8 MiB cache.</summary>
    public BlockCache? BlockCache { get; init; }

    /// <summary>Number of L0 files that triggers an L0→L1 compaction. Default 4.</summary>
    public int Level0CompactionTrigger { get; init; } = 4;

    /// <summary>Number of L0 files at which each write is delayed by 1 ms. Default 20.</summary>
    public int Level0SlowdownTrigger { get; init; } = 20;

    /// <summary>Number of L0 files at which writes wait for compaction. Default 36.</summary>
    public int Level0StopTrigger { get; init; } = 36;

    /// <summary>Target total size of L1; each deeper level is <see cref="LevelSizeMultiplier"/> times larger. Default 64 MiB.</summary>
    public long MaxBytesForLevelBase { get; init; } = 64 * 1024 * 1024;

    /// <summary>Growth factor between levels. Default 10.</summary>
    public int LevelSizeMultiplier { get; init; } = 10;

    /// <summary>Target size of an SSTable written by compaction. Default 8 MiB.</summary>
    public long TargetFileSizeBytes { get; init; } = 8 * 1024 * 1024;

    /// <summary>Number of levels (L0..L(n-1)). Default 7; 2 to 12.</summary>
    public int NumLevels { get; init; } = 7;

    /// <summary>Immutable memtables allowed to wait for flush before writers stall. Default 2.</summary>
    public int MaxImmutableMemtables { get; init; } = 2;

    /// <summary>Durability of acknowledged writes when the WAL is on. Default <see cref="SyncMode.GroupCommit"/>.</summary>
    public SyncMode Sync { get; init; } = SyncMode.GroupCommit;

    /// <summary>
    /// Write-ahead log on (default) or off. With it off, data not yet flushed is lost on a crash; the
    /// caller (a Raft replica, whose log is the WAL) passes an applied index with each write and the
    /// engine reports the highest index it made durable in <see cref="LsmEngine.DurableAppliedIndex"/>.
    /// </summary>
    public bool EnableWal { get; init; } = true;

    /// <summary>Where files live; default the real disk.</summary>
    public IFileSystem FileSystem { get; init; } = PhysicalFileSystem.Instance;

    /// <summary>
    /// Runs the engine's flushes and compactions; several engines may share one (a node's pipelines). Null (the
    /// default) gives the engine its own: a flush thread and a compaction loop limited by <see cref="CompactionLimiter"/>.
    /// </summary>
    public IBackgroundScheduler? BackgroundScheduler { get; init; }

    /// <summary>
    /// With the engine's own scheduler: limits concurrent compactions across engines; null uses
    /// <see cref="CompactionLimiter.ProcessWide"/>. A shared <see cref="BackgroundScheduler"/> sets its own limit.
    /// </summary>
    public CompactionLimiter? CompactionLimiter { get; init; }

    /// <summary>Instruments that observe this engine (shared by the engines of a node, like the block cache); null: none.</summary>
    public StorageMetrics? Metrics { get; init; }

    /// <summary>Throws <see cref="InvalidOptionException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        Check(IsValidFlushThreshold(FlushThresholdBytes), nameof(FlushThresholdBytes), $"must be between {MinFlushThresholdBytes} and {MaxFlushThresholdBytes} bytes");
        Check(BloomFalsePositiveRate > 0 && BloomFalsePositiveRate <= 0.5 && double.IsFinite(BloomFalsePositiveRate), nameof(BloomFalsePositiveRate), "must be greater than 0 and at most 0.5");
        Check(BloomHashFunctions is null or (>= 1 and <= 30), nameof(BloomHashFunctions), "must be between 1 and 30, or unset for the optimal count");
        Check(BlockSize is >= 1024 and <= 1 << 20, nameof(BlockSize), "must be between 1024 and 1048576 bytes");
        Check(BlockRestartInterval is >= 1 and <= 1024, nameof(BlockRestartInterval), "must be between 1 and 1024");
        Check(Level0CompactionTrigger >= 1, nameof(Level0CompactionTrigger), "must be at least 1");
        Check(Level0SlowdownTrigger >= Level0CompactionTrigger, nameof(Level0SlowdownTrigger), "must be at least Level0CompactionTrigger");
        Check(Level0StopTrigger >= Level0SlowdownTrigger, nameof(Level0StopTrigger), "must be at least Level0SlowdownTrigger");
        Check(MaxBytesForLevelBase >= 1024 * 1024, nameof(MaxBytesForLevelBase), "must be at least 1 MiB");
        Check(LevelSizeMultiplier is >= 2 and <= 100, nameof(LevelSizeMultiplier), "must be between 2 and 100");
        Check(TargetFileSizeBytes is >= 64 * 1024 and <= 1L << 30, nameof(TargetFileSizeBytes), "must be between 65536 and 1073741824 bytes");
        Check(NumLevels is >= 2 and <= 12, nameof(NumLevels), "must be between 2 and 12");
        Check(MaxImmutableMemtables is >= 1 and <= 16, nameof(MaxImmutableMemtables), "must be between 1 and 16");
        Check(Enum.IsDefined(Sync), nameof(Sync), "must be None, EveryWrite or GroupCommit");
        Check(FileSystem is not null, nameof(FileSystem), "must not be null");
    }

    private static void Check(bool ok, string option, string rule)
    {
        if (!ok)
            throw new InvalidOptionException(option, rule);
    }
}
