namespace LsmRaft.Raft;

/// <summary>
/// The part of the log not yet persisted by the shell: an optional incoming snapshot, then entries.
/// </summary>
/// <remarks>
/// Invariant: <c>entries[i].Index == Offset + i</c>; when <see cref="Snapshot"/> is set, <c>Offset == Snapshot.Index + 1</c>
/// at the moment it was set. Unstable entries override storage entries at the same index.
/// Invariant: <c>Offset &lt;= OffsetInProgress &lt;= Offset + entries.Count</c>; entries below
/// <see cref="OffsetInProgress"/> were handed to the shell for persisting (pipelined Readies) and stay here,
/// readable, until the shell reports them durable.
/// </remarks>
internal sealed class Unstable
{
    private List<Entry> entries = [];

    public Unstable(ulong offset)
    {
        Offset = offset;
        OffsetInProgress = offset;
    }

    /// <summary>The entries not yet handed to the shell; from now on they are in progress.</summary>
    public Entry[] TakeToPersist()
    {
        var start = (int)(OffsetInProgress - Offset);
        if (start == entries.Count)
        {
            return [];
        }

        var taken = entries.GetRange(start, entries.Count - start).ToArray();
        OffsetInProgress = Offset + (ulong)entries.Count;
        return taken;
    }

    public RaftSnapshot? Snapshot { get; private set; }

    public ulong Offset { get; private set; }

    /// <summary>First index not yet handed to the shell for persisting (see <see cref="TakeToPersist"/>).</summary>
    public ulong OffsetInProgress { get; private set; }

    /// <summary>Entries not yet handed to the shell for persisting.</summary>
    public int CountNotInProgress => entries.Count - (int)(OffsetInProgress - Offset);

    public IReadOnlyList<Entry> Entries => entries;

    public ulong? MaybeFirstIndex() => Snapshot is { } s ? s.Index + 1 : null;

    public ulong? MaybeLastIndex()
    {
        if (entries.Count > 0)
        {
            return Offset + (ulong)entries.Count - 1;
        }

        return Snapshot?.Index;
    }

    public ulong? MaybeTerm(ulong index)
    {
        if (index < Offset)
        {
            return Snapshot is { } s && s.Index == index ? s.Term : null;
        }

        var last = MaybeLastIndex();
        if (last is null || index > last)
        {
            return null;
        }

        return entries[(int)(index - Offset)].Term;
    }

    /// <summary>The shell persisted entries up to (index, term); forget them unless they were replaced meanwhile.</summary>
    public void StableTo(ulong index, ulong term)
    {
        if (MaybeTerm(index) != term || index < Offset)
        {
            return;
        }

        var count = (int)(index + 1 - Offset);
        entries.RemoveRange(0, count);
        Offset = index + 1;
        OffsetInProgress = Math.Max(OffsetInProgress, Offset);
    }

    public void StableSnapTo(ulong index)
    {
        if (Snapshot is { } s && s.Index == index)
        {
            Snapshot = null;
        }
    }

    public void Restore(RaftSnapshot snapshot)
    {
        Offset = snapshot.Index + 1;
        OffsetInProgress = Offset;
        entries = [];
        Snapshot = snapshot;
    }

    /// <summary>Append <paramref name="newEntries"/>, first dropping whatever sits at or after their first index.</summary>
    public void TruncateAndAppend(IReadOnlyList<Entry> newEntries)
    {
        if (newEntries.Count == 0)
        {
            return;
        }

        var after = newEntries[0].Index;
        if (after == Offset + (ulong)entries.Count)
        {
            entries.AddRange(newEntries);
        }
        else if (after <= Offset)
        {
            // The new entries replace everything unstable, and mask storage entries from `after` on.
            Offset = after;
            OffsetInProgress = after;
            entries = [.. newEntries];
        }
        else
        {
            // Replaced entries that are being persisted must be handed out again (a later write replaces them).
            entries.RemoveRange((int)(after - Offset), entries.Count - (int)(after - Offset));
            entries.AddRange(newEntries);
            OffsetInProgress = Math.Min(OffsetInProgress, after);
        }
    }

    /// <summary>Unstable entries <c>[lo, hi)</c>; the caller guarantees <c>Offset &lt;= lo &lt;= hi &lt;= last + 1</c>.</summary>
    public IReadOnlyList<Entry> Slice(ulong lo, ulong hi)
    {
        if (lo < Offset || hi > Offset + (ulong)entries.Count || lo > hi)
        {
            throw new InvalidOperationException($"Unstable slice [{lo}, {hi}) is outside [{Offset}, {Offset + (ulong)entries.Count}).");
        }

        return entries.GetRange((int)(lo - Offset), (int)(hi - lo));
    }
}
