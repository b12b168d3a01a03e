using System.Buffers.Binary;
using LsmRaft.Storage;
using LsmRaft.Storage.Format;

namespace LsmRaft.Actors.Replica;

/// <summary>What a replicated command does to the key-value state machine.</summary>
internal enum KvCommandKind : byte
{
    Put = 1,
    Delete = 2,

    /// <summary>Put (or delete, when <see cref="KvOperation.Value"/> is null) only if the key's version equals the expected one (0 = absent).</summary>
    CompareAndSet = 3,

    /// <summary>Several puts/deletes applied atomically.</summary>
    Batch = 4,

    /// <summary>Cut the shard in two (<see cref="SplitRequest"/>); no key operations.</summary>
    Split = 5,
}

/// <summary>One put (Value set) or delete (Value null).</summary>
internal sealed record KvOperation(byte[] Key, byte[]? Value);

/// <summary>
/// A command carried in a Raft entry's data. Binary format (little-endian), documented in
/// docs/formats/commands.md: <c>version:u8=1 kind:u8</c> then, per kind,
/// Put: <c>key value</c>; Delete: <c>key</c>; CompareAndSet: <c>expected:u64 hasValue:u8 key [value]</c>;
/// Batch: <c>count:varint { hasValue:u8 key [value] }*</c>; where key and value are varint-length-prefixed bytes;
/// Split: <c>childId:u64 splitAt:u64 expectedStart:u64 expectedEnd:u64 expectedEpoch:u64</c>.
/// </summary>
internal sealed record KvCommand(KvCommandKind Kind, IReadOnlyList<KvOperation> Operations, ulong ExpectedVersion = 0, SplitRequest? SplitRequest = null)
{
    public const byte FormatVersion = 1;

    public static KvCommand Put(byte[] key, byte[] value) => new(KvCommandKind.Put, [new KvOperation(key, value)]);

    public static KvCommand Delete(byte[] key) => new(KvCommandKind.Delete, [new KvOperation(key, null)]);

    public static KvCommand CompareAndSet(byte[] key, ulong expectedVersion, byte[]? value) =>
        new(KvCommandKind.CompareAndSet, [new KvOperation(key, value)], expectedVersion);

    public static KvCommand Batch(IReadOnlyList<KvOperation> operations) => new(KvCommandKind.Batch, operations);

    public static KvCommand Split(SplitRequest split) => new(KvCommandKind.Split, [], SplitRequest: split);

    public byte[] Encode()
    {
        // A put (every write request) is sized exactly: one array, no trimming copy.
        int size = Kind == KvCommandKind.Put
            ? 2 + BytesLength(Operations[0].Key) + BytesLength(Operations[0].Value!)
            : 2 + 5 * 8 + Coding.MaxVarint32Length;
        if (Kind != KvCommandKind.Put)
            foreach (var op in Operations)
                size += 1 + 2 * Coding.MaxVarint32Length + op.Key.Length + (op.Value?.Length ?? 0);
        var buffer = new byte[size];
        var span = buffer.AsSpan();
        int p = 0;
        span[p++] = FormatVersion;
        span[p++] = (byte)Kind;
        switch (Kind)
        {
            case KvCommandKind.Put:
                p += WriteBytes(span[p..], Operations[0].Key);
                p += WriteBytes(span[p..], Operations[0].Value!);
                break;
            case KvCommandKind.Delete:
                p += WriteBytes(span[p..], Operations[0].Key);
                break;
            case KvCommandKind.CompareAndSet:
                BinaryPrimitives.WriteUInt64LittleEndian(span[p..], ExpectedVersion);
                p += 8;
                p += WriteOperation(span[p..], Operations[0]);
                break;
            case KvCommandKind.Batch:
                p += Coding.WriteVarint(span[p..], (ulong)Operations.Count);
                foreach (var op in Operations)
                    p += WriteOperation(span[p..], op);
                break;
            case KvCommandKind.Split:
                {
                    var split = SplitRequest!;
                    foreach (var field in (ReadOnlySpan<ulong>)[split.ChildId, split.SplitAt, split.ExpectedStart, split.ExpectedEnd, split.ExpectedEpoch])
                    {
                        BinaryPrimitives.WriteUInt64LittleEndian(span[p..], field);
                        p += 8;
                    }
                    break;
                }
            default:
                throw new InvalidOperationException($"Unknown command kind {Kind}.");
        }
        return p == buffer.Length ? buffer : buffer[..p];
    }

    private static int BytesLength(byte[] bytes) => Coding.VarintLength((ulong)bytes.Length) + bytes.Length;

    /// <summary>
    /// Reads <paramref name="data"/> as a well-formed put without materialising the command: the key and value
    /// are views of <paramref name="data"/>. False for any other kind or a malformed put (<see cref="Decode"/>
    /// then says what is wrong); true exactly when <see cref="Decode"/> would return a put of the same bytes.
    /// </summary>
    public static bool TryReadPut(ReadOnlySpan<byte> data, out Range key, out Range value)
    {
        key = value = default;
        if (data.Length < 2 || data[0] != FormatVersion || data[1] != (byte)KvCommandKind.Put)
            return false;
        int p = 2;
        if (!TryReadRange(data, ref p, out key) || !TryReadRange(data, ref p, out value))
            return false;
        return p == data.Length;
    }

    private static bool TryReadRange(ReadOnlySpan<byte> data, ref int p, out Range range)
    {
        range = default;
        if (!Coding.TryReadLength(data[p..], out int length, out int n) || length > data.Length - p - n)
            return false;
        range = new Range(p + n, p + n + length);
        p += n + length;
        return true;
    }

    /// <summary>Decodes a command; throws <see cref="FormatException"/> on malformed input (never an index error).</summary>
    public static KvCommand Decode(ReadOnlySpan<byte> data)
    {
        if (data.Length < 2)
            throw new FormatException("Command shorter than its header.");
        if (data[0] != FormatVersion)
            throw new FormatException($"Unknown command format version {data[0]}.");
        var kind = (KvCommandKind)data[1];
        int p = 2;
        KvCommand result;
        switch (kind)
        {
            case KvCommandKind.Put:
                {
                    var key = ReadBytes(data, ref p);
                    var value = ReadBytes(data, ref p);
                    result = Put(key, value);
                    break;
                }
            case KvCommandKind.Delete:
                result = Delete(ReadBytes(data, ref p));
                break;
            case KvCommandKind.CompareAndSet:
                {
                    if (data.Length - p < 8)
                        throw new FormatException("Truncated compare-and-set.");
                    ulong expected = BinaryPrimitives.ReadUInt64LittleEndian(data[p..]);
                    p += 8;
                    var op = ReadOperation(data, ref p);
                    result = CompareAndSet(op.Key, expected, op.Value);
                    break;
                }
            case KvCommandKind.Batch:
                {
                    if (!Coding.TryReadLength(data[p..], out int count, out int n) || count > data.Length)
                        throw new FormatException("Bad batch count.");
                    p += n;
                    var ops = new KvOperation[count];
                    for (int i = 0; i < count; i++)
                        ops[i] = ReadOperation(data, ref p);
                    result = Batch(ops);
                    break;
                }
            case KvCommandKind.Split:
                {
                    if (data.Length - p != 5 * 8)
                        throw new FormatException("A split carries exactly five 64-bit fields.");
                    ulong Next(ReadOnlySpan<byte> d, ref int q)
                    {
                        ulong v = BinaryPrimitives.ReadUInt64LittleEndian(d[q..]);
                        q += 8;
                        return v;
                    }
                    result = Split(new SplitRequest(Next(data, ref p), Next(data, ref p), Next(data, ref p), Next(data, ref p), Next(data, ref p)));
                    break;
                }
            default:
                throw new FormatException($"Unknown command kind {(byte)kind}.");
        }
        if (p != data.Length)
            throw new FormatException("Trailing bytes after command.");
        return result;
    }

    private static int WriteOperation(Span<byte> span, KvOperation op)
    {
        int p = 0;
        span[p++] = op.Value is null ? (byte)0 : (byte)1;
        p += WriteBytes(span[p..], op.Key);
        if (op.Value is not null)
            p += WriteBytes(span[p..], op.Value);
        return p;
    }

    private static KvOperation ReadOperation(ReadOnlySpan<byte> data, ref int p)
    {
        if (p >= data.Length)
            throw new FormatException("Truncated operation.");
        byte hasValue = data[p++];
        if (hasValue > 1)
            throw new FormatException("Bad operation flag.");
        var key = ReadBytes(data, ref p);
        return new KvOperation(key, hasValue == 1 ? ReadBytes(data, ref p) : null);
    }

    private static int WriteBytes(Span<byte> span, ReadOnlySpan<byte> bytes)
    {
        int n = Coding.WriteVarint(span, (ulong)bytes.Length);
        bytes.CopyTo(span[n..]);
        return n + bytes.Length;
    }

    private static byte[] ReadBytes(ReadOnlySpan<byte> data, ref int p)
    {
        if (!Coding.TryReadLength(data[p..], out int length, out int n) || length > data.Length - p - n)
            throw new FormatException("Bad length prefix.");
        p += n;
        var result = data.Slice(p, length).ToArray();
        p += length;
        return result;
    }
}
