namespace LsmRaft.Storage;

/// <summary>Per-level shape of the tree.</summary>
public sealed record LevelStats(int Level, int Files, long Bytes);

/// <summary>A point-in-time report of the engine's shape and counters (see <see cref="LsmEngine.GetStats"/>).</summary>
public sealed record EngineStats
{
    public required IReadOnlyList<LevelStats> Levels { get; init; }
    public long MemtableBytes { get; init; }
    public int ImmutableMemtables { get; init; }
    public long LastSequence { get; init; }

    /// <summary>Bytes written by user writes (keys + values).</summary>
    public long UserBytesWritten { get; init; }
    public long WalBytesWritten { get; init; }
    public long FlushBytesWritten { get; init; }
    public long CompactionBytesWritten { get; init; }
    public long CompactionBytesRead { get; init; }

    /// <summary>(WAL + flush + compaction bytes written) / user bytes written.</summary>
    public double WriteAmplification { get; init; }
    public long Flushes { get; init; }
    public long Compactions { get; init; }

    /// <summary>Point lookups that consulted a table's Bloom filter.</summary>
    public long BloomChecks { get; init; }
    /// <summary>Filter checks that ruled the table out (a read saved).</summary>
    public long BloomUseful { get; init; }
    /// <summary>Filter checks that passed but the key was not in the table.</summary>
    public long BloomFalsePositives { get; init; }
    public long BlockCacheHits { get; init; }
    public long BlockCacheMisses { get; init; }
    /// <summary>Writes delayed because L0 or the flush queue fell behind.</summary>
    public long WriteSlowdowns { get; init; }
    /// <summary>Writes that waited until a flush or compaction finished.</summary>
    public long WriteStops { get; init; }
    public long WriteStallMicros { get; init; }
    /// <summary>Bytes compaction must rewrite before every level is within its budget (see CompactionPicker.DebtBytes).</summary>
    public long CompactionDebtBytes { get; init; }
}
