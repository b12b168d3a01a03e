using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using LsmRaft.Storage.Format;

namespace LsmRaft.Storage.Memtable;

/// <summary>
/// A skip list of (internal key, value) entries ordered by <see cref="InternalKey.Compare"/>, kept in arenas
/// rather than as one object per node: node records (cached key prefix, where the bytes are, height, links) live
/// in chunked <c>int</c> arrays and are named by an <c>int</c> handle; key and value bytes live in chunked byte
/// arrays. Why: a memtable holds ~10^5 entries; as objects (node, links array, bytes) every insert stored a
/// reference into an old node, so each young-generation GC rescanned those cards and promoted the nodes, and a
/// search step chased node → links array → key bytes. Here a step reads one record whose links sit beside its
/// prefix, and the GC sees a few large arrays.
/// Concurrency: one writer at a time (the engine's write leader), any number of lock-free readers. A node's
/// record and bytes are fully written, and its chunk is reachable from the published chunk tables, before the
/// node is published with a release store (<see cref="Volatile.Write(ref int, int)"/>) into a predecessor's link;
/// readers load links with acquire semantics and re-read the chunk tables after, so a reader that sees a handle
/// sees its record, bytes and lower links.
/// Invariant: entries are never removed or changed after publication; internal keys are unique; handle 0 is
/// no node (the head's record lives at handle <see cref="Head"/>, never returned).
/// </summary>
internal sealed class SkipList
{
    public const int MaxHeight = 12;
    private const int BranchingFactor = 4;

    // Node record layout, in ints from the handle's offset.
    private const int PrefixField = 0; // three words, each as two ints (high half first)
    private const int DataChunkField = 6, DataOffsetField = 7, KeyLengthField = 8, ValueLengthField = 9;
    private const int LinksField = 10;

    /// <summary>Handles are <c>chunk &lt;&lt; NodeChunkBits | offset</c>; node chunks hold at most 2^NodeChunkBits ints.</summary>
    private const int NodeChunkBits = 16;
    private const int MaxNodeChunkInts = 1 << NodeChunkBits;
    private const int FirstNodeChunkInts = 256;
    private const int FirstDataChunkBytes = 4 << 10;
    private const int MaxDataChunkBytes = 1 << 20;

    /// <summary>The head's handle: offset 1 of chunk 0 (offset 0 stays unused so that handle 0 means none).</summary>
    private const int Head = 1;

    private int[][] _nodeChunks;
    private byte[][] _dataChunks = new byte[4][];
    private int _nodeChunkCount = 1;
    private int _nodeUsed; // ints used in the last node chunk
    private int _dataChunkCount;
    private int _dataCurrent = -1; // the chunk bump allocation continues in; -1 before the first
    private int _dataUsed;

    // Scratch for Insert; safe to reuse because there is a single writer.
    private readonly int[] _prev = new int[MaxHeight];
    private int _height = 1;
    private uint _randomState;

    public SkipList(uint seed = 0xdeadbeef)
    {
        _randomState = seed == 0 ? 1 : seed;
        _nodeChunks = new int[4][];
        _nodeChunks[0] = new int[FirstNodeChunkInts];
        _nodeUsed = Head + LinksField + MaxHeight;
    }

    public int Count { get; private set; }

    /// <summary>Inserts an entry. Caller guarantees a single writer and that <paramref name="internalKey"/> is not present.</summary>
    public void Insert(ReadOnlySpan<byte> internalKey, ReadOnlySpan<byte> value)
    {
        Span<int> prev = _prev;
        var prefix = PrefixOf(internalKey);
        FindGreaterOrEqual(internalKey, prefix, prev);

        int height = RandomHeight();
        if (height > _height)
        {
            for (int i = _height; i < height; i++)
                prev[i] = Head;
            // Readers may see the old height for a while; that is fine, they just start lower.
            Volatile.Write(ref _height, height);
        }

        var (dataChunk, dataOffset) = AllocateData(internalKey.Length + value.Length);
        var bytes = _dataChunks[dataChunk].AsSpan(dataOffset);
        internalKey.CopyTo(bytes);
        value.CopyTo(bytes[internalKey.Length..]);

        int node = AllocateNode(height);
        var record = _nodeChunks[node >> NodeChunkBits].AsSpan(node & (MaxNodeChunkInts - 1), LinksField + height);
        for (int w = 0; w < KeyPrefix.Words; w++)
        {
            ulong word = prefix[w];
            record[PrefixField + 2 * w] = (int)(word >> 32);
            record[PrefixField + 2 * w + 1] = (int)word;
        }
        record[DataChunkField] = dataChunk;
        record[DataOffsetField] = dataOffset;
        record[KeyLengthField] = internalKey.Length;
        record[ValueLengthField] = value.Length;
        for (int i = 0; i < height; i++)
            record[LinksField + i] = Volatile.Read(ref LinkRef(prev[i], i));
        for (int i = 0; i < height; i++)
            Volatile.Write(ref LinkRef(prev[i], i), node);
        Count++;
    }

    /// <summary>The first node with key ≥ <paramref name="key"/>, or 0.</summary>
    public int Seek(ReadOnlySpan<byte> key) => FindGreaterOrEqual(key, PrefixOf(key), default);

    /// <summary>The internal key of <paramref name="node"/> (a handle this list returned).</summary>
    public ReadOnlySpan<byte> Key(int node)
    {
        var record = Record(node);
        return new ReadOnlySpan<byte>(DataChunk(record[DataChunkField]), record[DataOffsetField], record[KeyLengthField]);
    }

    /// <summary>The value of <paramref name="node"/> (a handle this list returned).</summary>
    public ReadOnlySpan<byte> Value(int node)
    {
        var record = Record(node);
        return new ReadOnlySpan<byte>(DataChunk(record[DataChunkField]), record[DataOffsetField] + record[KeyLengthField], record[ValueLengthField]);
    }

    /// <summary>The node after <paramref name="node"/>, or 0.</summary>
    public int Next(int node) => Volatile.Read(ref LinkRef(node, 0));

    public int First => Volatile.Read(ref LinkRef(Head, 0));

    public int Last
    {
        get
        {
            int x = Head;
            int level = Volatile.Read(ref _height) - 1;
            while (true)
            {
                int next = Volatile.Read(ref LinkRef(x, level));
                if (next != 0)
                    x = next;
                else if (level == 0)
                    return x == Head ? 0 : x;
                else
                    level--;
            }
        }
    }

    /// <summary>The last node with key &lt; <paramref name="key"/>, or 0.</summary>
    public int FindLessThan(ReadOnlySpan<byte> key)
    {
        var prefix = PrefixOf(key);
        int x = Head;
        int level = Volatile.Read(ref _height) - 1;
        while (true)
        {
            int next = Volatile.Read(ref LinkRef(x, level));
            if (next != 0 && NodeLessThan(next, key, prefix))
                x = next;
            else if (level == 0)
                return x == Head ? 0 : x;
            else
                level--;
        }
    }

    /// <summary>
    /// The first 24 bytes of the user key as three big-endian words, zero-padded. If two prefixes differ, the
    /// keys order as the prefixes do (a shorter key padded with zeros is a prefix of the longer one, or
    /// differs earlier), so most comparisons during a search never touch the key bytes. Several words rather
    /// than one because keys commonly share their start (a table or tenant prefix, a zero-padded counter's
    /// leading digits): a search ends among neighbours that share it, and each tie costs a read of the key
    /// bytes elsewhere in memory.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static KeyPrefix PrefixOf(ReadOnlySpan<byte> internalKey)
    {
        var user = internalKey[..^InternalKey.TrailerSize];
        if (user.Length < KeyPrefix.Size)
        {
            Span<byte> padded = stackalloc byte[KeyPrefix.Size];
            padded.Clear();
            user.CopyTo(padded);
            return new KeyPrefix(BinaryPrimitives.ReadUInt64BigEndian(padded), BinaryPrimitives.ReadUInt64BigEndian(padded[8..]), BinaryPrimitives.ReadUInt64BigEndian(padded[16..]));
        }
        return new KeyPrefix(BinaryPrimitives.ReadUInt64BigEndian(user), BinaryPrimitives.ReadUInt64BigEndian(user[8..]), BinaryPrimitives.ReadUInt64BigEndian(user[16..]));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Word(ReadOnlySpan<int> record, int w) =>
        (ulong)(uint)record[PrefixField + 2 * w] << 32 | (uint)record[PrefixField + 2 * w + 1];

    private bool NodeLessThan(int node, ReadOnlySpan<byte> key, in KeyPrefix keyPrefix)
    {
        var record = Record(node);
        ulong word = Word(record, 0);
        if (word != keyPrefix.First)
            return word < keyPrefix.First;
        word = Word(record, 1);
        if (word != keyPrefix.Second)
            return word < keyPrefix.Second;
        word = Word(record, 2);
        if (word != keyPrefix.Third)
            return word < keyPrefix.Third;
        var nodeKey = new ReadOnlySpan<byte>(DataChunk(record[DataChunkField]), record[DataOffsetField], record[KeyLengthField]);
        return InternalKey.Compare(nodeKey, key) < 0;
    }

    /// <summary>The first 24 bytes of a user key, zero-padded, as three big-endian words (see <see cref="PrefixOf"/>).</summary>
    internal readonly record struct KeyPrefix(ulong First, ulong Second, ulong Third)
    {
        public const int Size = 24;
        public const int Words = 3;

        public ulong this[int word] => word switch { 0 => First, 1 => Second, _ => Third };
    }

    private int FindGreaterOrEqual(ReadOnlySpan<byte> key, in KeyPrefix prefix, Span<int> prev)
    {
        int x = Head;
        int level = Volatile.Read(ref _height) - 1;
        while (true)
        {
            int next = Volatile.Read(ref LinkRef(x, level));
            if (next != 0 && NodeLessThan(next, key, prefix))
            {
                x = next;
            }
            else
            {
                if (!prev.IsEmpty)
                    prev[level] = x;
                if (level == 0)
                    return next;
                level--;
            }
        }
    }

    /// <summary>The node's record from its first field through its links (readers: after an acquire load of the handle).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ReadOnlySpan<int> Record(int node) =>
        new(Volatile.Read(ref _nodeChunks)[node >> NodeChunkBits], node & (MaxNodeChunkInts - 1), LinksField);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ref int LinkRef(int node, int level) =>
        ref Volatile.Read(ref _nodeChunks)[node >> NodeChunkBits][(node & (MaxNodeChunkInts - 1)) + LinksField + level];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private byte[] DataChunk(int chunk) => Volatile.Read(ref _dataChunks)[chunk];

    /// <summary>Room for a record of the given height; the chunk is reachable from <see cref="_nodeChunks"/> before this returns.</summary>
    private int AllocateNode(int height)
    {
        int size = LinksField + height;
        var chunk = _nodeChunks[_nodeChunkCount - 1];
        if (_nodeUsed + size > chunk.Length)
        {
            // Chunks grow (256 ints, doubling to 2^16) so that the many small memtables of an idle node stay small.
            int length = Math.Min(MaxNodeChunkInts, chunk.Length * 2);
            var fresh = new int[length];
            var table = _nodeChunks;
            if (_nodeChunkCount == table.Length)
            {
                var bigger = new int[table.Length * 2][];
                Array.Copy(table, bigger, table.Length);
                table = bigger;
            }
            table[_nodeChunkCount] = fresh;
            Volatile.Write(ref _nodeChunks, table);
            _nodeChunkCount++;
            _nodeUsed = 0;
        }
        int handle = (_nodeChunkCount - 1) << NodeChunkBits | _nodeUsed;
        _nodeUsed += size;
        return handle;
    }

    /// <summary>Room for <paramref name="length"/> bytes; the chunk is reachable from <see cref="_dataChunks"/> before this returns.</summary>
    private (int Chunk, int Offset) AllocateData(int length)
    {
        if (_dataCurrent >= 0 && _dataUsed + length <= _dataChunks[_dataCurrent].Length)
        {
            int offset = _dataUsed;
            _dataUsed += length;
            return (_dataCurrent, offset);
        }
        int current = _dataCurrent < 0 ? 0 : _dataChunks[_dataCurrent].Length;
        int next = Math.Min(MaxDataChunkBytes, Math.Max(FirstDataChunkBytes, current * 2));
        if (length > next / 4)
        {
            // A large entry gets a chunk of its own; bump allocation carries on in the current chunk.
            return (AddDataChunk(new byte[length]), 0);
        }
        _dataCurrent = AddDataChunk(new byte[next]);
        _dataUsed = length;
        return (_dataCurrent, 0);
    }

    private int AddDataChunk(byte[] chunk)
    {
        var table = _dataChunks;
        if (_dataChunkCount == table.Length)
        {
            var bigger = new byte[table.Length * 2][];
            Array.Copy(table, bigger, table.Length);
            table = bigger;
        }
        table[_dataChunkCount] = chunk;
        Volatile.Write(ref _dataChunks, table);
        return _dataChunkCount++;
    }

    private int RandomHeight()
    {
        int height = 1;
        while (height < MaxHeight && NextRandom() % BranchingFactor == 0)
            height++;
        return height;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private uint NextRandom()
    {
        // xorshift32: deterministic per list, no shared state.
        uint x = _randomState;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        _randomState = x;
        return x;
    }
}
