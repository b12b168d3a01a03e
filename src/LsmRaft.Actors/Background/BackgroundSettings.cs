namespace LsmRaft.Actors.Background;

/// <summary>
/// Limits of a node's background pipelines. Compactions run at most <see cref="CompactionParallelism"/> at a time
/// and, when <see cref="CompactionBytesPerSecond"/> is set, start no faster than that many input bytes per second.
/// Flushes have their own graph and <see cref="FlushParallelism"/> (one engine's flushes never run concurrently).
/// </summary>
public sealed record BackgroundSettings
{
    /// <summary>Default compaction parallelism: half the processors, at least 1 (as the engine's process-wide limiter).</summary>
    public static int DefaultCompactionParallelism => Math.Max(1, Environment.ProcessorCount / 2);

    public int CompactionParallelism { get; init; } = DefaultCompactionParallelism;

    /// <summary>Compaction input bytes per second across the node; null = unlimited.</summary>
    public long? CompactionBytesPerSecond { get; init; }

    public int FlushParallelism { get; init; } = Math.Max(1, Environment.ProcessorCount);

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (CompactionParallelism is < 1 or > 64)
            throw new ArgumentException($"{nameof(CompactionParallelism)} must be between 1 and 64 (got {CompactionParallelism})");
        if (FlushParallelism is < 1 or > 64)
            throw new ArgumentException($"{nameof(FlushParallelism)} must be between 1 and 64 (got {FlushParallelism})");
        if (CompactionBytesPerSecond is { } rate && (rate < MinBytesPerSecond || rate > MaxBytesPerSecond))
            throw new ArgumentException($"{nameof(CompactionBytesPerSecond)} must be between {MinBytesPerSecond} and {MaxBytesPerSecond} bytes/s, or unset for no limit (got {rate})");
    }

    /// <summary>The throttle counts in KiB: at least one KiB per second.</summary>
    public const long MinBytesPerSecond = 1024;

    /// <summary>Akka's Throttle needs at least one tick (100 ns) between KiB tokens: 10^7 KiB/s, about 9.5 GiB/s.</summary>
    public const long MaxBytesPerSecond = 10_000_000L * 1024;
}
