using LsmRaft.Storage.Format;

namespace LsmRaft.Storage;

/// <summary>
/// A group of puts and deletes applied atomically by <see cref="LsmEngine.Write"/>. Later operations
/// on the same key win. Encoded as the WAL record payload (see docs/formats/wal.md):
/// <c>count:varint32 { kind:byte key:len-prefixed [value:len-prefixed] }*</c>.
/// </summary>
public sealed class WriteBatch
{
    private byte[] _buffer;
    private int _length;

    public WriteBatch() => _buffer = new byte[64];

    /// <summary>A batch whose buffer starts with room for <paramref name="capacity"/> bytes of operations (avoids regrowing a batch of known size).</summary>
    public WriteBatch(int capacity) => _buffer = new byte[Math.Max(16, capacity)];

    public int Count { get; private set; }

    /// <summary>Approximate bytes the batch will occupy in the memtable.</summary>
    public int ByteSize => _length;

    public WriteBatch Put(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        Limits.CheckKey(key);
        Limits.CheckValue(value);
        Append(EntryKind.Value, key, value);
        return this;
    }

    /// <summary>
    /// Adds a put whose value is <paramref name="valueHead"/> followed by <paramref name="valueTail"/>, without the
    /// caller building the joined value first (a replica's stored value is a version header plus the user's bytes).
    /// </summary>
    public WriteBatch Put(ReadOnlySpan<byte> key, ReadOnlySpan<byte> valueHead, ReadOnlySpan<byte> valueTail)
    {
        Limits.CheckKey(key);
        Limits.CheckValueLength(valueHead.Length + (long)valueTail.Length);
        Append(EntryKind.Value, key, valueHead, valueTail);
        return this;
    }

    public WriteBatch Delete(ReadOnlySpan<byte> key)
    {
        Limits.CheckKey(key);
        Append(EntryKind.Deletion, key, default);
        return this;
    }

    public void Clear()
    {
        _length = 0;
        Count = 0;
    }

    internal ReadOnlySpan<byte> Operations => _buffer.AsSpan(0, _length);

    private void Append(EntryKind kind, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value) => Append(kind, key, value, default);

    private void Append(EntryKind kind, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ReadOnlySpan<byte> valueTail)
    {
        int need = 1 + Coding.MaxVarint32Length * 2 + key.Length + value.Length + valueTail.Length;
        if (_length + need > _buffer.Length)
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + need));
        var span = _buffer.AsSpan(_length);
        int p = 0;
        span[p++] = (byte)kind;
        p += Coding.WriteVarint(span[p..], (ulong)key.Length);
        key.CopyTo(span[p..]);
        p += key.Length;
        if (kind == EntryKind.Value)
        {
            p += Coding.WriteVarint(span[p..], (ulong)(value.Length + valueTail.Length));
            value.CopyTo(span[p..]);
            p += value.Length;
            valueTail.CopyTo(span[p..]);
            p += valueTail.Length;
        }
        _length += p;
        Count++;
    }

    /// <summary>
    /// A cursor over encoded operations (a batch, or a WAL record's payload). Throws
    /// <see cref="CorruptionException"/> naming <c>source</c> on malformed input.
    /// </summary>
    internal ref struct Reader
    {
        private readonly ReadOnlySpan<byte> _operations;
        private readonly int _count;
        private readonly string _source;
        private int _position;
        private int _index;

        public Reader(ReadOnlySpan<byte> operations, int count, string source)
        {
            _operations = operations;
            _count = count;
            _source = source;
        }

        public EntryKind Kind { get; private set; }
        public ReadOnlySpan<byte> Key { get; private set; }
        public ReadOnlySpan<byte> Value { get; private set; }

        /// <summary>Advances to the next operation; false after the last one (having checked nothing trails it).</summary>
        public bool MoveNext()
        {
            var ops = _operations;
            int p = _position;
            if (_index == _count)
            {
                if (p != ops.Length)
                    throw new CorruptionException(_source, p, "trailing bytes after write batch");
                return false;
            }
            if (p >= ops.Length)
                throw new CorruptionException(_source, p, "write batch shorter than its count");
            var kind = (EntryKind)ops[p++];
            if (kind is not (EntryKind.Value or EntryKind.Deletion))
                throw new CorruptionException(_source, p - 1, $"unknown operation kind {(byte)kind}");
            if (!Coding.TryReadLength(ops[p..], out int keyLength, out int n) || keyLength > ops.Length - p - n)
                throw new CorruptionException(_source, p, "bad key length");
            p += n;
            Key = ops.Slice(p, keyLength);
            p += keyLength;
            Value = default;
            if (kind == EntryKind.Value)
            {
                if (!Coding.TryReadLength(ops[p..], out int valueLength, out n) || valueLength > ops.Length - p - n)
                    throw new CorruptionException(_source, p, "bad value length");
                p += n;
                Value = ops.Slice(p, valueLength);
                p += valueLength;
            }
            Kind = kind;
            _position = p;
            _index++;
            return true;
        }
    }
}
