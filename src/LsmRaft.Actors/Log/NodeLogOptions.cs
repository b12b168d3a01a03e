using LsmRaft.Storage;

namespace LsmRaft.Actors.Log;

internal sealed class NodeLogOptions
{
    /// <summary>A new segment starts when the next batch would push the active one past this size.</summary>
    public long SegmentSize { get; init; } = 64L * 1024 * 1024;

    /// <summary>True: every batch is fsynced before its callers complete. False: flushed to the OS only (tests, benchmarks).</summary>
    public bool SyncWrites { get; init; } = true;

    /// <summary>The writer stops adding requests to a batch once it holds this many payload bytes (a batch always takes one).</summary>
    public long MaxBatchBytes { get; init; } = 4L * 1024 * 1024;

    /// <summary>Bytes of recently written entries kept in memory so that reads of the log's tail skip the file.</summary>
    public long CacheBytes { get; init; } = 16L * 1024 * 1024;

    /// <summary>The node's Raft instruments (batch sizes, append and fsync times); null: none.</summary>
    public RaftMetrics? Metrics { get; init; }

    internal void Validate()
    {
        if (SegmentSize < 1024)
            throw new InvalidOptionException(nameof(SegmentSize), $"{SegmentSize} is below the minimum of 1024 bytes.");
        if (MaxBatchBytes < 1)
            throw new InvalidOptionException(nameof(MaxBatchBytes), "must be at least 1.");
        if (CacheBytes < 0)
            throw new InvalidOptionException(nameof(CacheBytes), "must not be negative.");
    }
}

/// <summary>Entries below the group's first index were compacted away; the caller needs a snapshot instead.</summary>
internal sealed class LogCompactedException(ulong groupId, ulong index, ulong firstIndex)
    : Exception($"Group {groupId}: index {index} is compacted (first index is {firstIndex}).");
