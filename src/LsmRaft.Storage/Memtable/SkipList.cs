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

    private readonly Node _head = new(Array.Empty<byte>(), 0, MaxHeight, 0);

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
    /// The first 8 bytes of the user key, big-endian, zero-padded. If two prefixes differ, the keys
    /// order as the prefixes do (a shorter key padded with zeros is a prefix of the longer one, or
    /// differs earlier), so most comparisons during a search never touch the key bytes: one cache
    /// miss per step instead of two.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong PrefixOf(ReadOnlySpan<byte> internalKey)
    {
        var user = internalKey[..^InternalKey.TrailerSize];
        if (user.Length >= 8)
            return System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(user);
        Span<byte> padded = stackalloc byte[8];
        padded.Clear();
        user.CopyTo(padded);
        return System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(padded);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool NodeLessThan(Node node, ReadOnlySpan<byte> key, ulong keyPrefix) =>
        node.Prefix != keyPrefix ? node.Prefix < keyPrefix : InternalKey.Compare(node.Key, key) < 0;

    /// <summary>The last node with key &lt; <paramref name="key"/>, or null.</summary>
    public Node? FindLessThan(ReadOnlySpan<byte> key)
    {
        ulong prefix = PrefixOf(key);
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
        ulong prefix = PrefixOf(key);
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

        public readonly ulong Prefix;

        public Node(byte[] data, int keyLength, int height, ulong prefix)
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
