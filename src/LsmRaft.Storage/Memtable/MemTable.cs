using LsmRaft.Storage.Format;

namespace LsmRaft.Storage.Memtable;

/// <summary>
/// The in-memory write buffer: a <see cref="SkipList"/> plus size accounting and, when the WAL is off,
/// the highest applied index among its writes. Single writer, concurrent readers (see SkipList).
/// </summary>
internal sealed class MemTable
{
    // Per-entry overhead beyond key and value bytes: the node record (prefix, location, links) and arena slack (approximate).
    private const int EntryOverhead = 64;
    private readonly SkipList _list = new();
    private long _approximateBytes;

    public MemTable(ulong walNumber) => WalNumber = walNumber;

    /// <summary>The WAL file that holds this memtable's writes (0 when the WAL is off).</summary>
    public ulong WalNumber { get; }

    public long ApproximateBytes => Volatile.Read(ref _approximateBytes);

    public int Count => _list.Count;

    /// <summary>Highest applied index written into this memtable (-1 when none); meaningful with the WAL off.</summary>
    public long MaxAppliedIndex { get; private set; } = -1;

    public bool IsEmpty => _list.First == 0;

    public void Add(ulong sequence, EntryKind kind, ReadOnlySpan<byte> userKey, ReadOnlySpan<byte> value)
    {
        int keyLength = userKey.Length + InternalKey.TrailerSize;
        Span<byte> key = keyLength <= 256 ? stackalloc byte[keyLength] : new byte[keyLength];
        InternalKey.Write(key, userKey, sequence, kind);
        _list.Insert(key, value);
        Volatile.Write(ref _approximateBytes, _approximateBytes + keyLength + value.Length + EntryOverhead);
    }

    public void NoteAppliedIndex(long appliedIndex)
    {
        if (appliedIndex > MaxAppliedIndex)
            MaxAppliedIndex = appliedIndex;
    }

    /// <summary>
    /// Finds the newest entry of <paramref name="userKey"/> with sequence ≤ <paramref name="sequence"/>.
    /// Returns false when the memtable holds no such entry.
    /// </summary>
    public bool TryGet(ReadOnlySpan<byte> userKey, ulong sequence, out EntryKind kind, out ReadOnlySpan<byte> value)
    {
        int keyLength = userKey.Length + InternalKey.TrailerSize;
        Span<byte> seek = keyLength <= 256 ? stackalloc byte[keyLength] : new byte[keyLength];
        InternalKey.Write(seek, userKey, sequence, EntryKind.Value);
        int node = _list.Seek(seek);
        if (node != 0 && InternalKey.UserKey(_list.Key(node)).SequenceEqual(userKey))
        {
            kind = InternalKey.Kind(_list.Key(node));
            value = _list.Value(node);
            return true;
        }
        kind = default;
        value = default;
        return false;
    }

    public IInternalIterator NewIterator() => new Iterator(_list);

    private sealed class Iterator : IInternalIterator
    {
        private readonly SkipList _list;
        private int _node; // a handle of _list; 0 when not positioned

        public Iterator(SkipList list) => _list = list;

        public bool Valid => _node != 0;

        public ReadOnlySpan<byte> Key => _list.Key(_node);

        public ReadOnlySpan<byte> Value => _list.Value(_node);

        public void SeekToFirst() => _node = _list.First;

        public void SeekToLast() => _node = _list.Last;

        public void Seek(ReadOnlySpan<byte> target) => _node = _list.Seek(target);

        public void Next() => _node = _list.Next(_node);

        // The list has no back links; find the predecessor by search (O(log n)), as LevelDB does.
        public void Prev() => _node = _list.FindLessThan(_list.Key(_node));

        public void Dispose() { }
    }
}
