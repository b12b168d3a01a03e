namespace LsmRaft.Raft;

/// <summary>
/// Read access to a node's durable Raft state, as last persisted by the shell. The core reads through it and
/// never writes: writes come back to the shell in a <see cref="Ready"/>.
/// </summary>
/// <remarks>
/// Index range: entries exist for <c>[FirstIndex(), LastIndex()]</c>; the term of <c>FirstIndex() - 1</c>
/// is also known (it is the snapshot's). An empty log has <c>LastIndex() == FirstIndex() - 1</c>.
/// </remarks>
public interface IRaftStorage
{
    /// <summary>
    /// The persisted hard state, and the configuration in effect at the storage snapshot's index.
    /// The core replays conf-change entries after that index itself.
    /// </summary>
    (HardState HardState, ConfState ConfState) InitialState();

    /// <summary>
    /// Entries <c>[lo, hi)</c>, stopping early once their total size exceeds <paramref name="maxBytes"/>
    /// (at least one entry is returned when the range is non-empty).
    /// Throws <see cref="RaftLogCompactedException"/> when <c>lo &lt; FirstIndex()</c> and
    /// <see cref="RaftLogUnavailableException"/> when <c>hi &gt; LastIndex() + 1</c>.
    /// </summary>
    IReadOnlyList<Entry> Entries(ulong lo, ulong hi, ulong maxBytes);

    /// <summary>Term of entry <paramref name="index"/>, for <c>FirstIndex() - 1 &lt;= index &lt;= LastIndex()</c>.</summary>
    ulong Term(ulong index);

    ulong FirstIndex();

    ulong LastIndex();

    /// <summary>The most recent snapshot; may throw <see cref="SnapshotTemporarilyUnavailableException"/>.</summary>
    RaftSnapshot Snapshot();
}
