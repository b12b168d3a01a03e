using LsmRaft.Storage.Format;

namespace LsmRaft.Storage;

/// <summary>
/// A group of puts and deletes applied atomically by <see cref="LsmEngine.Write"/>. Later operations
/// on the same key win. Encoded as the WAL record payload (see docs/formats/wal.md):
/// <c>count:varint32 { kind:byte key:len-prefixed [value:len-prefixed] }*</c>.
/// </summary>
public sealed class WriteBatch
{
    private byte[] _buffer = new byte[64];
    private int _length;

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

    private void Append(EntryKind kind, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        int need = 1 + Coding.MaxVarint32Length * 2 + key.Length + value.Length;
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
            p += Coding.WriteVarint(span[p..], (ulong)value.Length);
            value.CopyTo(span[p..]);
            p += value.Length;
        }
        _length += p;
        Count++;
    }

    /// <summary>Calls <paramref name="visit"/> for each operation in order. Throws on malformed input (a corrupt WAL record).</summary>
    internal static void ForEach(ReadOnlySpan<byte> operations, int count, string source, OperationVisitor visit)
    {
        int p = 0;
        for (int i = 0; i < count; i++)
        {
            if (p >= operations.Length)
                throw new CorruptionException(source, p, "write batch shorter than its count");
            var kind = (EntryKind)operations[p++];
            if (kind is not (EntryKind.Value or EntryKind.Deletion))
                throw new CorruptionException(source, p - 1, $"unknown operation kind {(byte)kind}");
            if (!Coding.TryReadLength(operations[p..], out int keyLength, out int n) || p + n + keyLength > operations.Length)
                throw new CorruptionException(source, p, "bad key length");
            p += n;
            var key = operations.Slice(p, keyLength);
            p += keyLength;
            ReadOnlySpan<byte> value = default;
            if (kind == EntryKind.Value)
            {
                if (!Coding.TryReadLength(operations[p..], out int valueLength, out n) || p + n + valueLength > operations.Length)
                    throw new CorruptionException(source, p, "bad value length");
                p += n;
                value = operations.Slice(p, valueLength);
                p += valueLength;
            }
            visit(i, kind, key, value);
        }
        if (p != operations.Length)
            throw new CorruptionException(source, p, "trailing bytes after write batch");
    }

    internal delegate void OperationVisitor(int index, EntryKind kind, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value);
}
