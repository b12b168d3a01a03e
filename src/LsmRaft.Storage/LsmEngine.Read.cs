using LsmRaft.Storage.Format;
using LsmRaft.Storage.Iterators;
using LsmRaft.Storage.Versions;

namespace LsmRaft.Storage;

// The read path: memtable → immutable memtables (newest first) → L0 tables (newest first) →
// one table per deeper level, stopping at the first entry for the key visible at the read's sequence.
public sealed partial class LsmEngine
{
    private readonly object _snapshotLock = new();
    private readonly SortedDictionary<ulong, int> _snapshots = new();

    /// <summary>The value of <paramref name="key"/>, or null when absent; as of <paramref name="snapshot"/> when given.</summary>
    public byte[]? Get(ReadOnlySpan<byte> key, Snapshot? snapshot = null)
    {
        ThrowIfDisposed();
        Limits.CheckKey(key);
        var (sv, sequence) = AcquireReadView(snapshot);
        try
        {
            if (sv.Mem.TryGet(key, sequence, out var kind, out var memValue))
                return kind == EntryKind.Value ? memValue.ToArray() : null;
            foreach (var imm in sv.Immutables)
                if (imm.TryGet(key, sequence, out kind, out memValue))
                    return kind == EntryKind.Value ? memValue.ToArray() : null;
            return GetFromTables(sv.Version, key, sequence);
        }
        finally
        {
            sv.Unref();
        }
    }

    private byte[]? GetFromTables(Version version, ReadOnlySpan<byte> key, ulong sequence)
    {
        foreach (var file in version.Levels[0])
        {
            if (InternalKey.UserKey(file.Smallest).SequenceCompareTo(key) > 0 ||
                InternalKey.UserKey(file.Largest).SequenceCompareTo(key) < 0)
                continue;
            if (_tables.Get(file).TryGet(key, sequence, out var kind, out var value))
                return kind == EntryKind.Value ? value : null;
        }
        byte[]? seek = null;
        for (int level = 1; level < version.NumLevels; level++)
        {
            var files = version.Levels[level];
            if (files.Length == 0)
                continue;
            seek ??= InternalKey.ForSeek(key, sequence);
            int index = LevelIterator.FindFile(files, seek);
            if (index >= files.Length)
                continue;
            var file = files[index];
            if (InternalKey.UserKey(file.Smallest).SequenceCompareTo(key) > 0)
                continue;
            if (_tables.Get(file).TryGet(key, sequence, out var kind, out var value))
                return kind == EntryKind.Value ? value : null;
        }
        return null;
    }

    /// <summary>A cursor over a consistent view: the snapshot's, or the latest at the time of the call.</summary>
    public LsmIterator NewIterator(Snapshot? snapshot = null)
    {
        ThrowIfDisposed();
        var (sv, sequence) = AcquireReadView(snapshot);
        try
        {
            var children = new List<IInternalIterator>(2 + sv.Immutables.Length + sv.Version.Levels[0].Length + sv.Version.NumLevels)
            {
                sv.Mem.NewIterator(),
            };
            foreach (var imm in sv.Immutables)
                children.Add(imm.NewIterator());
            foreach (var file in sv.Version.Levels[0])
                children.Add(_tables.NewIterator(file));
            for (int level = 1; level < sv.Version.NumLevels; level++)
                if (sv.Version.Levels[level].Length > 0)
                    children.Add(new LevelIterator(sv.Version.Levels[level], _tables.NewIterator));
            return new LsmIterator(new MergingIterator(children.ToArray()), sequence, sv.Unref);
        }
        catch
        {
            sv.Unref();
            throw;
        }
    }

    /// <summary>
    /// Entries with <paramref name="start"/> ≤ key &lt; <paramref name="end"/> (null bounds are open),
    /// at most <paramref name="limit"/> of them, ascending or (with <paramref name="reverse"/>) descending.
    /// </summary>
    public IReadOnlyList<KeyValuePair<byte[], byte[]>> Scan(byte[]? start, byte[]? end, int limit = int.MaxValue, bool reverse = false, Snapshot? snapshot = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        var result = new List<KeyValuePair<byte[], byte[]>>();
        if (limit == 0 || (start is not null && end is not null && start.AsSpan().SequenceCompareTo(end) >= 0))
            return result;
        using var it = NewIterator(snapshot);
        if (!reverse)
        {
            if (start is null) it.SeekToFirst();
            else it.Seek(start);
            for (; it.Valid && result.Count < limit; it.Next())
            {
                if (end is not null && it.Key.SequenceCompareTo(end) >= 0)
                    break;
                result.Add(new(it.Key.ToArray(), it.Value.ToArray()));
            }
        }
        else
        {
            if (end is null) it.SeekToLast();
            else it.SeekBefore(end);
            for (; it.Valid && result.Count < limit; it.Prev())
            {
                if (start is not null && it.Key.SequenceCompareTo(start) < 0)
                    break;
                result.Add(new(it.Key.ToArray(), it.Value.ToArray()));
            }
        }
        return result;
    }

    /// <summary>
    /// The super version and the sequence a read without a snapshot sees, taken in that order. The other order
    /// loses data: between reading the sequence S and taking the super version, a newer version of a key could be
    /// written, flushed and compacted with the older one dropped (no snapshot protected S), and the read would then
    /// find only the newer version, invisible at S, and miss the key. Taken in this order, every table and memtable
    /// is pinned first, so nothing S needs can go, and S covers all of the pinned memtables' writes that were
    /// published; writes into a memtable created after the super version are all newer than those in it, so
    /// leaving them out still shows a prefix of the writes. With a snapshot, its registration protects the sequence.
    /// </summary>
    private (SuperVersion View, ulong Sequence) AcquireReadView(Snapshot? snapshot)
    {
        var sv = AcquireSuperVersion();
        BetweenReadViewSteps?.Invoke();
        return (sv, snapshot?.Sequence ?? Volatile.Read(ref _lastSequence));
    }

    /// <summary>Tests only: runs inside <see cref="AcquireReadView"/>, between taking the super version and reading the sequence.</summary>
    internal Action? BetweenReadViewSteps { get; set; }

    /// <summary>A view of the current state for repeatable reads; dispose it when done so compaction may drop what it pins.</summary>
    public Snapshot GetSnapshot()
    {
        ThrowIfDisposed();
        lock (_snapshotLock)
        {
            ulong sequence = Volatile.Read(ref _lastSequence);
            _snapshots[sequence] = _snapshots.GetValueOrDefault(sequence) + 1;
            return new Snapshot(sequence, ReleaseSnapshot);
        }
    }

    private void ReleaseSnapshot(Snapshot snapshot)
    {
        lock (_snapshotLock)
        {
            int count = _snapshots[snapshot.Sequence] - 1;
            if (count == 0)
                _snapshots.Remove(snapshot.Sequence);
            else
                _snapshots[snapshot.Sequence] = count;
        }
    }

    /// <summary>The oldest sequence any live snapshot can read at (the last sequence when there is none).</summary>
    private ulong OldestSnapshotSequence()
    {
        lock (_snapshotLock)
        {
            foreach (var sequence in _snapshots.Keys)
                return sequence;
            return Volatile.Read(ref _lastSequence);
        }
    }
}
