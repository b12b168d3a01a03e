namespace LsmRaft.Raft;

/// <summary>What a log entry carries.</summary>
public enum EntryType : byte
{
    /// <summary>An opaque command for the state machine (empty data: the leader's no-op of its term).</summary>
    Normal = 0,

    /// <summary>A membership change.</summary>
    ConfChange = 1,
}

/// <summary>One Raft log entry. Immutable once created.</summary>
public sealed record Entry(ulong Term, ulong Index, EntryType Type, byte[] Data);

/// <summary>The state Raft must persist before it sends messages that depend on it.</summary>
public readonly record struct HardState(ulong Term, ulong Vote, ulong Commit)
{
    public static readonly HardState Empty = default;
}
