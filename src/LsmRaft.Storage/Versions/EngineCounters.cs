namespace LsmRaft.Storage.Versions;

/// <summary>
/// Counters bumped from hot paths with <see cref="Interlocked"/>; read into <see cref="EngineStats"/>.
/// Fields, not properties, so callers can pass them by reference to Interlocked.
/// </summary>
internal sealed class EngineCounters
{
    public long BloomChecks;
    public long BloomUseful;
    public long BloomFalsePositives;
    public long UserBytesWritten;
    public long WalBytesWritten;
    public long FlushBytesWritten;
    public long CompactionBytesWritten;
    public long CompactionBytesRead;
    /// <summary>Bytes of data blocks read from table files (block cache misses; compaction inputs included).</summary>
    public long BlockBytesRead;
    public long Flushes;
    public long Compactions;
    public long WriteSlowdowns;
    public long WriteStops;
    public long WriteStallMicros;
}
