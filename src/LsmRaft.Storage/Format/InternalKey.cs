using System.Buffers.Binary;

namespace LsmRaft.Storage.Format;

/// <summary>The kind of an entry, stored in the low byte of the internal key's trailer.</summary>
internal enum EntryKind : byte
{
    Deletion = 0,
    Value = 1,
}

/// <summary>
/// Internal keys are <c>user key ++ trailer</c>, where the trailer is 8 bytes little-endian holding
/// <c>(sequence &lt;&lt; 8) | kind</c>. They order by user key ascending (unsigned byte-wise), then by
/// sequence descending, then kind descending, so the newest version of a key comes first.
/// Invariant: sequence numbers fit in 56 bits.
/// </summary>
internal static class InternalKey
{
    public const int TrailerSize = 8;
    public const ulong MaxSequence = (1UL << 56) - 1;

    public static ulong PackTrailer(ulong sequence, EntryKind kind) => (sequence << 8) | (byte)kind;

    public static ReadOnlySpan<byte> UserKey(ReadOnlySpan<byte> internalKey) => internalKey[..^TrailerSize];

    public static ulong Trailer(ReadOnlySpan<byte> internalKey) => BinaryPrimitives.ReadUInt64LittleEndian(internalKey[^TrailerSize..]);

    public static ulong Sequence(ReadOnlySpan<byte> internalKey) => Trailer(internalKey) >> 8;

    public static EntryKind Kind(ReadOnlySpan<byte> internalKey) => (EntryKind)(byte)Trailer(internalKey);

    public static byte[] Make(ReadOnlySpan<byte> userKey, ulong sequence, EntryKind kind)
    {
        var result = new byte[userKey.Length + TrailerSize];
        userKey.CopyTo(result);
        BinaryPrimitives.WriteUInt64LittleEndian(result.AsSpan(userKey.Length), PackTrailer(sequence, kind));
        return result;
    }

    public static void Write(Span<byte> dest, ReadOnlySpan<byte> userKey, ulong sequence, EntryKind kind)
    {
        userKey.CopyTo(dest);
        BinaryPrimitives.WriteUInt64LittleEndian(dest[userKey.Length..], PackTrailer(sequence, kind));
    }

    /// <summary>A seek key that sorts before every entry of <paramref name="userKey"/> visible at <paramref name="sequence"/>.</summary>
    public static byte[] ForSeek(ReadOnlySpan<byte> userKey, ulong sequence) => Make(userKey, sequence, EntryKind.Value);

    /// <summary>Total order on internal keys (see the type's summary).</summary>
    public static int Compare(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        int c = a[..^TrailerSize].SequenceCompareTo(b[..^TrailerSize]);
        if (c != 0)
            return c;
        ulong ta = Trailer(a), tb = Trailer(b);
        return ta > tb ? -1 : ta < tb ? 1 : 0;
    }
}

/// <summary>Orders internal keys; usable with sorted collections.</summary>
internal sealed class InternalKeyComparer : IComparer<byte[]>
{
    public static readonly InternalKeyComparer Instance = new();

    public int Compare(byte[]? x, byte[]? y) => InternalKey.Compare(x!, y!);
}

/// <summary>Unsigned byte-wise order on user keys (memcmp order). The origin's signed order was a bug.</summary>
public sealed class ByteKeyComparer : IComparer<byte[]>, IEqualityComparer<byte[]>
{
    public static readonly ByteKeyComparer Instance = new();

    public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);

    public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

    public int GetHashCode(byte[] obj)
    {
        var hash = new HashCode();
        hash.AddBytes(obj);
        return hash.ToHashCode();
    }
}
