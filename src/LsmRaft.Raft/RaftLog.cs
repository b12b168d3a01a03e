namespace LsmRaft.Raft;

/// <summary>
/// The node's view of the Raft log: persisted entries in <see cref="IRaftStorage"/> followed by
/// <see cref="Unstable"/> ones not yet persisted.
/// </summary>
/// <remarks>Invariant: <c>Applied &lt;= Committed &lt;= LastIndex()</c>.</remarks>
internal sealed class RaftLog
{
    private readonly IRaftStorage storage;
    private readonly ulong maxApplyBytes;

    public RaftLog(IRaftStorage storage, ulong maxApplyBytes)
    {
        this.storage = storage;
        this.maxApplyBytes = maxApplyBytes;
        var first = storage.FirstIndex();
        Unstable = new Unstable(storage.LastIndex() + 1);
        Committed = first - 1;
        Applied = first - 1;
    }

    public Unstable Unstable { get; }

    public ulong Committed { get; private set; }

    public ulong Applied { get; private set; }

    public ulong FirstIndex() => Unstable.MaybeFirstIndex() ?? storage.FirstIndex();

    public ulong LastIndex() => Unstable.MaybeLastIndex() ?? storage.LastIndex();

    public ulong LastTerm() => TryTerm(LastIndex(), out var t) ? t : throw new InvalidOperationException("The term of the last log index must be known.");

    /// <summary>Term at <paramref name="index"/>; false when the index is compacted or past the end.</summary>
    public bool TryTerm(ulong index, out ulong term)
    {
        term = 0;
        var dummy = FirstIndex() - 1;
        if (index < dummy || index > LastIndex())
        {
            return false;
        }

        if (Unstable.MaybeTerm(index) is { } t)
        {
            term = t;
            return true;
        }

        try
        {
            term = storage.Term(index);
            return true;
        }
        catch (RaftLogCompactedException)
        {
            return false;
        }
    }

    /// <summary>Term at <paramref name="index"/>, or 0 when it is not available (0 matches no real entry's term).</summary>
    public ulong TermOrZero(ulong index) => TryTerm(index, out var t) ? t : 0;

    public bool MatchTerm(ulong index, ulong term) => TryTerm(index, out var t) && t == term;

    /// <summary>Raft §5.4.1: is a log ending at (<paramref name="lastIndex"/>, <paramref name="lastTerm"/>) at least as up to date as ours?</summary>
    public bool IsUpToDate(ulong lastIndex, ulong lastTerm)
    {
        var ourTerm = LastTerm();
        return lastTerm > ourTerm || (lastTerm == ourTerm && lastIndex >= LastIndex());
    }

    /// <summary>
    /// The follower side of AppendEntries: if our log holds (<paramref name="index"/>, <paramref name="logTerm"/>),
    /// append <paramref name="entries"/> after it (truncating a conflicting suffix) and advance the commit index.
    /// Returns the index of the last new entry, or null on mismatch. <paramref name="conflictIndex"/> is the
    /// first index whose entry was replaced or added (0 if all entries were already present).
    /// </summary>
    public ulong? MaybeAppend(ulong index, ulong logTerm, ulong committed, IReadOnlyList<Entry> entries, out ulong conflictIndex)
    {
        conflictIndex = 0;
        if (!MatchTerm(index, logTerm))
        {
            return null;
        }

        var lastNew = index + (ulong)entries.Count;
        conflictIndex = FindConflict(entries);
        if (conflictIndex != 0)
        {
            if (conflictIndex <= Committed)
            {
                throw new InvalidOperationException($"Entry {conflictIndex} conflicts with the committed prefix (commit {Committed}); Raft safety is violated.");
            }

            Append(entries.Skip((int)(conflictIndex - (index + 1))).ToArray());
        }

        CommitTo(Math.Min(committed, lastNew));
        return lastNew;
    }

    /// <summary>Append entries (the caller assigned indexes); returns the new last index.</summary>
    public ulong Append(IReadOnlyList<Entry> entries)
    {
        if (entries.Count == 0)
        {
            return LastIndex();
        }

        var after = entries[0].Index - 1;
        if (after < Committed)
        {
            throw new InvalidOperationException($"Appending after {after} would overwrite committed entries (commit {Committed}).");
        }

        Unstable.TruncateAndAppend(entries);
        return LastIndex();
    }

    /// <summary>First index where <paramref name="entries"/> disagree with our log or extend it; 0 if all match.</summary>
    private ulong FindConflict(IReadOnlyList<Entry> entries)
    {
        foreach (var e in entries)
        {
            if (!MatchTerm(e.Index, e.Term))
            {
                return e.Index;
            }
        }

        return 0;
    }

    /// <summary>
    /// Fast backtracking: the largest index at or below <paramref name="index"/> whose term is at most
    /// <paramref name="term"/>, with that term. Entries above it cannot match a log whose entry at
    /// <paramref name="index"/> has <paramref name="term"/>, so the leader can skip them all.
    /// </summary>
    public (ulong Index, ulong Term) FindConflictByTerm(ulong index, ulong term)
    {
        while (true)
        {
            if (!TryTerm(index, out var ourTerm))
            {
                return (index, 0);
            }

            if (ourTerm <= term || index == 0)
            {
                return (index, ourTerm);
            }

            index--;
        }
    }

    public void CommitTo(ulong commit)
    {
        if (commit <= Committed)
        {
            return;
        }

        if (commit > LastIndex())
        {
            throw new InvalidOperationException($"Commit index {commit} is past the last index {LastIndex()}; the log is corrupt or truncated.");
        }

        Committed = commit;
    }

    /// <summary>Raft §5.4.2: commit <paramref name="index"/> only if its entry is from <paramref name="term"/>, the current term.</summary>
    public bool MaybeCommit(ulong index, ulong term)
    {
        if (index > Committed && TermOrZero(index) == term)
        {
            CommitTo(index);
            return true;
        }

        return false;
    }

    public void AppliedTo(ulong index)
    {
        if (index == 0 || index <= Applied)
        {
            return;
        }

        if (index > Committed)
        {
            throw new InvalidOperationException($"Applied index {index} is past the commit index {Committed}.");
        }

        Applied = index;
    }

    public bool HasPendingSnapshot => Unstable.Snapshot is not null;

    /// <summary>Committed entries not yet handed out for applying; none while a snapshot waits to be installed.</summary>
    public IReadOnlyList<Entry> NextCommittedEntries(ulong applying)
    {
        if (HasPendingSnapshot)
        {
            return [];
        }

        var lo = Math.Max(applying + 1, FirstIndex());
        if (Committed + 1 <= lo)
        {
            return [];
        }

        return Slice(lo, Committed + 1, maxApplyBytes);
    }

    public bool HasNextCommittedEntries(ulong applying) =>
        !HasPendingSnapshot && Committed > Math.Max(applying, FirstIndex() - 1);

    /// <summary>
    /// Like <see cref="NextCommittedEntries"/>, but only entries the shell has reported durable (below
    /// <see cref="Unstable.Offset"/>): with pipelined Readies a committed entry may still be in flight to the
    /// local disk, and it is applied only once it is there.
    /// </summary>
    public IReadOnlyList<Entry> NextDurableCommittedEntries(ulong applying)
    {
        var hi = Math.Min(Committed, Unstable.Offset - 1);
        var lo = Math.Max(applying + 1, FirstIndex());
        return HasPendingSnapshot || hi < lo ? [] : Slice(lo, hi + 1, maxApplyBytes);
    }

    public bool HasNextDurableCommittedEntries(ulong applying) =>
        !HasPendingSnapshot && Math.Min(Committed, Unstable.Offset - 1) > Math.Max(applying, FirstIndex() - 1);

    /// <summary>Entries from <paramref name="lo"/> to the end, within <paramref name="maxBytes"/>.</summary>
    public IReadOnlyList<Entry> EntriesFrom(ulong lo, ulong maxBytes)
    {
        var last = LastIndex();
        return lo > last ? [] : Slice(lo, last + 1, maxBytes);
    }

    /// <summary>Entries <c>[lo, hi)</c>; throws <see cref="RaftLogCompactedException"/> if <paramref name="lo"/> is compacted.</summary>
    public IReadOnlyList<Entry> Slice(ulong lo, ulong hi, ulong maxBytes)
    {
        var first = FirstIndex();
        if (lo < first)
        {
            throw new RaftLogCompactedException(lo, first);
        }

        if (hi > LastIndex() + 1 || lo > hi)
        {
            throw new InvalidOperationException($"Log slice [{lo}, {hi}) is outside [{first}, {LastIndex() + 1}).");
        }

        if (lo == hi)
        {
            return [];
        }

        List<Entry> result = [];
        if (lo < Unstable.Offset)
        {
            var stored = storage.Entries(lo, Math.Min(hi, Unstable.Offset), maxBytes);
            if ((ulong)stored.Count < Math.Min(hi, Unstable.Offset) - lo)
            {
                // The storage hit the byte limit; nothing from the unstable part can follow.
                return stored;
            }

            result.AddRange(stored);
        }

        if (hi > Unstable.Offset)
        {
            result.AddRange(Unstable.Slice(Math.Max(lo, Unstable.Offset), hi));
        }

        return LogEntries.Limit(result, maxBytes);
    }

    /// <summary>Replace the log with <paramref name="snapshot"/>: everything up to its index is committed.</summary>
    public void Restore(RaftSnapshot snapshot)
    {
        Committed = snapshot.Index;
        Unstable.Restore(snapshot);
    }

    /// <summary>The snapshot a lagging follower should get: an unstable one just received, else storage's.</summary>
    public RaftSnapshot Snapshot() => Unstable.Snapshot ?? storage.Snapshot();

    public void StableTo(ulong index, ulong term) => Unstable.StableTo(index, term);

    public void StableSnapTo(ulong index) => Unstable.StableSnapTo(index);

    /// <summary>After a snapshot is installed, the state machine reflects it.</summary>
    public void AppliedSnapshot(ulong index)
    {
        if (index > Applied)
        {
            Applied = index;
        }
    }

    /// <summary>Restore the persisted commit index on restart.</summary>
    public void LoadCommit(ulong commit)
    {
        if (commit < Committed || commit > LastIndex())
        {
            throw new InvalidOperationException($"Persisted commit {commit} is outside [{Committed}, {LastIndex()}]; the hard state and log disagree.");
        }

        Committed = commit;
    }

    public void SetAppliedOnStart(ulong applied)
    {
        if (applied < FirstIndex() - 1 || applied > Committed)
        {
            throw new ArgumentException($"RaftConfig.Applied ({applied}) must be within [{FirstIndex() - 1}, {Committed}] (snapshot index to commit index).");
        }

        Applied = applied;
    }
}
