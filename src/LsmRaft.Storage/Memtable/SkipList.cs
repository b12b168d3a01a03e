using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using LsmRaft.Storage.Format;

namespace LsmRaft.Storage.Memtable;

/// <summary>
/// A skip list of (internal key, value) entries ordered by <see cref="InternalKey.Compare"/>.
/// Concurrency: one writer at a time (the engine's write leader), any number of lock-free readers.
/// A node is fully built before it is published with a release store (<see cref="Volatile.Write{T}(ref T, T)"/>)
/// into its predecessor, so a reader that sees a node sees its key, value and lower links.
/// Invariant: entries are never removed or changed after publication; internal keys are unique.
/// </summary>
internal sealed class SkipList
{
    public const int MaxHeight = 12;
    private const int BranchingFactor = 4;

    private readonly Node _head = new(Array.Empty<byte>(), 0, MaxHeight, default);

    // Scratch for Insert; safe to reuse because there is a single writer.
    private readonly Node?[] _prev = new Node?[MaxHeight];
    private int _height = 1;
    private uint _randomState;

    public SkipList(uint seed = 0xdeadbeef) => _randomState = seed == 0 ? 1 : seed;

    public int Count { get; private set; }

    /// <summary>Inserts an entry. Caller guarantees a single writer and that <paramref name="internalKey"/> is not present.</summary>
    public void Insert(ReadOnlySpan<byte> internalKey, ReadOnlySpan<byte> value)
    {
        Span<Node?> prev = _prev;
        FindGreaterOrEqual(internalKey, prev);

        int height = RandomHeight();
        if (height > _height)
        {
            for (int i = _height; i < height; i++)
                prev[i] = _head;
            // Readers may see the old height for a while; that is fine, they just start lower.
            Volatile.Write(ref _height, height);
        }

        var data = new byte[internalKey.Length + value.Length];
        internalKey.CopyTo(data);
        value.CopyTo(data.AsSpan(internalKey.Length));
        var node = new Node(data, internalKey.Length, height, PrefixOf(internalKey));
        for (int i = 0; i < height; i++)
        {
            node.Next[i] = prev[i]!.Next[i];
            Volatile.Write(ref prev[i]!.Next[i], node);
        }
        Count++;
    }

    /// <summary>The first node with key ≥ <paramref name="key"/>, or null.</summary>
    public Node? Seek(ReadOnlySpan<byte> key) => FindGreaterOrEqual(key, default);

    /// <summary>
    /// The first 16 bytes of the user key as two big-endian words, zero-padded. If two prefixes differ, the
    /// keys order as the prefixes do (a shorter key padded with zeros is a prefix of the longer one, or
    /// differs earlier), so most comparisons during a search never touch the key bytes: one cache miss per
    /// step instead of two. Sixteen bytes rather than eight because keys commonly share a first word (a table
    /// or tenant prefix, a zero-padded counter's leading digits) and would then always fall through to the
    /// full comparison.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static KeyPrefix PrefixOf(ReadOnlySpan<byte> internalKey)
    {
        var user = internalKey[..^InternalKey.TrailerSize];
        if (user.Length >= KeyPrefix.Size)
            return new KeyPrefix(BinaryPrimitives.ReadUInt64BigEndian(user), BinaryPrimitives.ReadUInt64BigEndian(user[8..]));
        Span<byte> padded = stackalloc byte[KeyPrefix.Size];
        padded.Clear();
        user.CopyTo(padded);
        return new KeyPrefix(BinaryPrimitives.ReadUInt64BigEndian(padded), BinaryPrimitives.ReadUInt64BigEndian(padded[8..]));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool NodeLessThan(Node node, ReadOnlySpan<byte> key, in KeyPrefix keyPrefix)
    {
        if (node.Prefix.High != keyPrefix.High)
            return node.Prefix.High < keyPrefix.High;
        if (node.Prefix.Low != keyPrefix.Low)
            return node.Prefix.Low < keyPrefix.Low;
        return InternalKey.Compare(node.Key, key) < 0;
    }

    /// <summary>The first 16 bytes of a user key, zero-padded, as two big-endian words (see <see cref="PrefixOf"/>).</summary>
    internal readonly record struct KeyPrefix(ulong High, ulong Low)
    {
        public const int Size = 16;
    }

    /// <summary>The last node with key &lt; <paramref name="key"/>, or null.</summary>
    public Node? FindLessThan(ReadOnlySpan<byte> key)
    {
        var prefix = PrefixOf(key);
        Node x = _head;
        int level = Volatile.Read(ref _height) - 1;
        while (true)
        {
            Node? next = Volatile.Read(ref x.Next[level]);
            if (next is not null && NodeLessThan(next, key, prefix))
            {
                x = next;
            }
            else if (level == 0)
            {
                return ReferenceEquals(x, _head) ? null : x;
            }
            else
            {
                level--;
            }
        }
    }

    public Node? First => Volatile.Read(ref _head.Next[0]);

    public Node? Last
    {
        get
        {
            Node x = _head;
            int level = Volatile.Read(ref _height) - 1;
            while (true)
            {
                Node? next = Volatile.Read(ref x.Next[level]);
                if (next is not null)
                    x = next;
                else if (level == 0)
                    return ReferenceEquals(x, _head) ? null : x;
                else
                    level--;
            }
        }
    }

    private Node? FindGreaterOrEqual(ReadOnlySpan<byte> key, Span<Node?> prev)
    {
        var prefix = PrefixOf(key);
        Node x = _head;
        int level = Volatile.Read(ref _height) - 1;
        while (true)
        {
            Node? next = Volatile.Read(ref x.Next[level]);
            if (next is not null && NodeLessThan(next, key, prefix))
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

    internal sealed class Node
    {
        private readonly byte[] _data;
        private readonly int _keyLength;
        public readonly Node?[] Next;

        public readonly KeyPrefix Prefix;

        public Node(byte[] data, int keyLength, int height, KeyPrefix prefix)
        {
            _data = data;
            _keyLength = keyLength;
            Prefix = prefix;
            Next = new Node?[height];
        }

        public ReadOnlySpan<byte> Key => new(_data, 0, _keyLength);

        public ReadOnlySpan<byte> Value => new(_data, _keyLength, _data.Length - _keyLength);

        public Node? NextNode => Volatile.Read(ref Next[0]);
    }
}
