namespace LsmRaft.Raft;

/// <summary>
/// An in-memory <see cref="IRaftStorage"/> with the write side a shell needs: the test double for the real
/// log store, and the storage of every node in the deterministic simulator.
/// </summary>
/// <remarks>
/// Invariant: <c>entries[0]</c> is a dummy entry standing for the snapshot's (index, term); real entries follow
/// at consecutive indexes. So <c>FirstIndex() == entries[0].Index + 1</c>.
/// </remarks>
public sealed class MemoryRaftStorage : IRaftStorage
{
    private readonly List<Entry> entries = [];
    private HardState hardState;
    private RaftSnapshot snapshot;

    /// <summary>An empty storage whose snapshot at index 0 holds <paramref name="confState"/>: a new group's members.</summary>
    public MemoryRaftStorage(ConfState confState)
        : this(RaftSnapshot.Initial(confState))
    {
    }

    /// <summary>A storage starting from <paramref name="snapshot"/>, with an empty log after it.</summary>
    public MemoryRaftStorage(RaftSnapshot snapshot)
    {
        this.snapshot = snapshot;
        entries.Add(Dummy(snapshot));
        hardState = new HardState(snapshot.Term, 0, snapshot.Index);
    }

    public HardState HardState => hardState;

    public (HardState HardState, ConfState ConfState) InitialState() => (hardState, snapshot.Metadata.ConfState);

    public void SetHardState(HardState state) => hardState = state;

    public IReadOnlyList<Entry> Entries(ulong lo, ulong hi, ulong maxBytes)
    {
        var offset = entries[0].Index;
        if (lo <= offset)
        {
            throw new RaftLogCompactedException(lo, offset + 1);
        }

        if (hi > LastIndex() + 1)
        {
            throw new RaftLogUnavailableException(hi - 1, LastIndex());
        }

        if (lo >= hi)
        {
            return [];
        }

        var slice = entries.GetRange((int)(lo - offset), (int)(hi - lo));
        return LogEntries.Limit(slice, maxBytes);
    }

    public ulong Term(ulong index)
    {
        var offset = entries[0].Index;
        if (index < offset)
        {
            throw new RaftLogCompactedException(index, offset + 1);
        }

        if (index > LastIndex())
        {
            throw new RaftLogUnavailableException(index, LastIndex());
        }

        return entries[(int)(index - offset)].Term;
    }

    public ulong FirstIndex() => entries[0].Index + 1;

    public ulong LastIndex() => entries[0].Index + (ulong)entries.Count - 1;

    public RaftSnapshot Snapshot() => snapshot;

    /// <summary>
    /// Persist entries from a <see cref="Ready"/>. Entries at or after the first new index replace what is
    /// there (a leader overwrote an uncommitted suffix); entries already compacted are skipped.
    /// </summary>
    public void Append(IReadOnlyList<Entry> newEntries)
    {
        if (newEntries.Count == 0)
        {
            return;
        }

        var first = FirstIndex();
        var last = newEntries[^1].Index;
        if (last < first)
        {
            return;
        }

        var skip = first > newEntries[0].Index ? (int)(first - newEntries[0].Index) : 0;
        var start = newEntries[skip].Index;
        if (start > LastIndex() + 1)
        {
            throw new InvalidOperationException($"Appending entry {start} would leave a gap after last index {LastIndex()}.");
        }

        var keep = (int)(start - entries[0].Index);
        entries.RemoveRange(keep, entries.Count - keep);
        for (var i = skip; i < newEntries.Count; i++)
        {
            entries.Add(newEntries[i]);
        }
    }

    /// <summary>Replace the whole log by <paramref name="newSnapshot"/> (a follower installing a leader's snapshot).</summary>
    public void ApplySnapshot(RaftSnapshot newSnapshot)
    {
        if (newSnapshot.Index <= snapshot.Index && snapshot.Index != 0)
        {
            throw new SnapshotOutOfDateException(newSnapshot.Index, snapshot.Index);
        }

        snapshot = newSnapshot;
        entries.Clear();
        entries.Add(Dummy(newSnapshot));
    }

    /// <summary>
    /// Record a snapshot the shell took of its state machine at applied index <paramref name="index"/>,
    /// whose configuration was <paramref name="confState"/>. Does not drop entries: see <see cref="Compact"/>.
    /// </summary>
    public RaftSnapshot CreateSnapshot(ulong index, ConfState confState, byte[] data)
    {
        if (index <= snapshot.Index && snapshot.Index != 0)
        {
            throw new SnapshotOutOfDateException(index, snapshot.Index);
        }

        if (index > LastIndex())
        {
            throw new RaftLogUnavailableException(index, LastIndex());
        }

        snapshot = new RaftSnapshot(new SnapshotMetadata(index, Term(index), confState), data);
        return snapshot;
    }

    /// <summary>
    /// Drop entries up to and including <paramref name="compactIndex"/>. Only entries covered by the current
    /// snapshot may go, so a lagging follower can always be caught up.
    /// </summary>
    public void Compact(ulong compactIndex)
    {
        var offset = entries[0].Index;
        if (compactIndex <= offset)
        {
            return;
        }

        if (compactIndex > snapshot.Index)
        {
            throw new InvalidOperationException($"Cannot compact to {compactIndex}: the snapshot only covers up to {snapshot.Index}.");
        }

        var cut = (int)(compactIndex - offset);
        var dummy = new Entry(entries[cut].Term, entries[cut].Index, EntryType.Normal, []);
        entries.RemoveRange(0, cut + 1);
        entries.Insert(0, dummy);
    }

    private static Entry Dummy(RaftSnapshot s) => new(s.Term, s.Index, EntryType.Normal, []);
}
