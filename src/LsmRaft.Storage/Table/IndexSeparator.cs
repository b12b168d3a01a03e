using LsmRaft.Storage.Format;

namespace LsmRaft.Storage.Table;

/// <summary>
/// Shortens index keys, as LevelDB's <c>FindShortestSeparator</c> / <c>FindShortSuccessor</c>: an index entry
/// only has to separate its block from the next, so a short key between the two keeps the index small.
/// A shortened key carries the trailer <c>(MaxSequence, Value)</c>, the largest trailer, so it sorts before
/// every real entry of its user key. When no shorter key exists the full key is used unchanged.
/// </summary>
internal static class IndexSeparator
{
    private static readonly ulong SeparatorTrailer = InternalKey.PackTrailer(InternalKey.MaxSequence, EntryKind.Value);

    /// <summary>
    /// Writes to <paramref name="dest"/> (at least <c>lastKey.Length</c> bytes) an internal key k with
    /// <c>lastKey ≤ k &lt; nextKey</c>; returns its length. Requires <c>lastKey &lt; nextKey</c>.
    /// </summary>
    public static int ShortestSeparator(ReadOnlySpan<byte> lastKey, ReadOnlySpan<byte> nextKey, Span<byte> dest)
    {
        var a = InternalKey.UserKey(lastKey);
        var b = InternalKey.UserKey(nextKey);
        int diff = a.CommonPrefixLength(b);
        if (diff < a.Length && diff < b.Length)
        {
            byte d = a[diff];
            // a[diff] < b[diff] since a < b; bumping it keeps the result below b only if there is room.
            if (d < 0xFF && d + 1 < b[diff])
            {
                a[..diff].CopyTo(dest);
                dest[diff] = (byte)(d + 1);
                Coding.WriteFixed64(dest[(diff + 1)..], SeparatorTrailer);
                return diff + 1 + InternalKey.TrailerSize;
            }
        }
        lastKey.CopyTo(dest);
        return lastKey.Length;
    }

    /// <summary>
    /// Writes to <paramref name="dest"/> (at least <c>lastKey.Length</c> bytes) a short internal key k ≥
    /// <paramref name="lastKey"/>, for the index entry of the table's last block; returns its length.
    /// </summary>
    public static int ShortSuccessor(ReadOnlySpan<byte> lastKey, Span<byte> dest)
    {
        var a = InternalKey.UserKey(lastKey);
        int i = a.IndexOfAnyExcept((byte)0xFF);
        if (i < 0)
        {
            lastKey.CopyTo(dest);
            return lastKey.Length;
        }
        a[..i].CopyTo(dest);
        dest[i] = (byte)(a[i] + 1);
        Coding.WriteFixed64(dest[(i + 1)..], SeparatorTrailer);
        return i + 1 + InternalKey.TrailerSize;
    }
}
