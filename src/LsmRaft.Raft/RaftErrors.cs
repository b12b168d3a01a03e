namespace LsmRaft.Raft;

/// <summary>The requested log index is below the storage's first index: it was compacted into a snapshot.</summary>
public sealed class RaftLogCompactedException(ulong index, ulong firstIndex)
    : Exception($"Raft log index {index} is compacted; the first available index is {firstIndex}.")
{
    public ulong RequestedIndex { get; } = index;
}

/// <summary>The requested log index is past the last index the storage holds.</summary>
public sealed class RaftLogUnavailableException(ulong index, ulong lastIndex)
    : Exception($"Raft log index {index} is unavailable; the last index is {lastIndex}.")
{
    public ulong RequestedIndex { get; } = index;
}

/// <summary>The storage cannot produce a snapshot right now (for example, one is being built); retry later.</summary>
public sealed class SnapshotTemporarilyUnavailableException()
    : Exception("The Raft snapshot is temporarily unavailable; the leader retries on the next heartbeat.");

/// <summary>A snapshot older than the one the storage already holds was offered.</summary>
public sealed class SnapshotOutOfDateException(ulong offered, ulong held)
    : Exception($"Snapshot at index {offered} is older than the stored snapshot at index {held}.");
