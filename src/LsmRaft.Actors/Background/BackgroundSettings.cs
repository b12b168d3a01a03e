using Akka.Configuration;

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

    /// <summary>HOCON path of these settings (hocon/lsmraft.conf documents them).</summary>
    public const string ConfigPath = "lsmraft.background";

    /// <summary>
    /// Reads <c>lsmraft.background</c>: <c>compaction-parallelism</c> and <c>flush-parallelism</c> (0 = the default),
    /// <c>compaction-bytes-per-second</c> (a byte size such as <c>64MiB</c>; 0 = unlimited). Missing keys keep the defaults.
    /// </summary>
    public static BackgroundSettings FromConfig(Config config)
    {
        var defaults = new BackgroundSettings();
        if (!config.HasPath(ConfigPath))
            return defaults;
        var section = config.GetConfig(ConfigPath);
        int compactions = section.GetInt("compaction-parallelism", 0);
        int flushes = section.GetInt("flush-parallelism", 0);
        long rate = section.GetByteSize("compaction-bytes-per-second", 0) ?? 0;
        var settings = new BackgroundSettings
        {
            CompactionParallelism = compactions == 0 ? defaults.CompactionParallelism : compactions,
            FlushParallelism = flushes == 0 ? defaults.FlushParallelism : flushes,
            CompactionBytesPerSecond = rate == 0 ? null : rate,
        };
        try
        {
            settings.Validate();
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"HOCON {ConfigPath}: {e.Message}", e);
        }
        return settings;
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (CompactionParallelism is < 1 or > MaxParallelism)
            throw new ArgumentException($"{nameof(CompactionParallelism)} must be between 1 and {MaxParallelism} (got {CompactionParallelism})");
        if (FlushParallelism is < 1 or > MaxParallelism)
            throw new ArgumentException($"{nameof(FlushParallelism)} must be between 1 and {MaxParallelism} (got {FlushParallelism})");
        if (CompactionBytesPerSecond is { } rate && (rate < MinBytesPerSecond || rate > MaxBytesPerSecond))
            throw new ArgumentException($"{nameof(CompactionBytesPerSecond)} must be between {MinBytesPerSecond} and {MaxBytesPerSecond} bytes/s, or unset for no limit (got {rate})");
    }

    public const int MaxParallelism = 64;

    /// <summary>The throttle counts in KiB: at least one KiB per second.</summary>
    public const long MinBytesPerSecond = 1024;

    /// <summary>Akka's Throttle needs at least one tick (100 ns) between KiB tokens: 10^7 KiB/s, about 9.5 GiB/s.</summary>
    public const long MaxBytesPerSecond = 10_000_000L * 1024;
}
