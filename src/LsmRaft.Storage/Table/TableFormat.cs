using LsmRaft.Storage.Format;

namespace LsmRaft.Storage.Table;

/// <summary>Constants of the SSTable format; docs/formats/sstable.md describes the layout byte by byte.</summary>
internal static class TableFormat
{
    /// <summary>Bytes after every block: 1 byte block type, then the masked CRC32C of contents ++ type.</summary>
    public const int BlockTrailerSize = 5;

    /// <summary>The only block type written; other values are reserved (for compression) and rejected on read.</summary>
    public const byte UncompressedBlock = 0;

    public const uint FormatVersion = 1;

    /// <summary>The bytes <c>LSMRSST1</c> in file order, read as a little-endian uint64.</summary>
    public const ulong Magic = 0x3154535352534D4CUL;

    /// <summary>Index blocks put a restart point at every entry so seeks binary-search whole keys in place.</summary>
    public const int IndexRestartInterval = 1;

    /// <summary>Appends the block trailer of <paramref name="contents"/> to <paramref name="trailer"/> (5 bytes).</summary>
    public static void WriteBlockTrailer(ReadOnlySpan<byte> contents, Span<byte> trailer)
    {
        trailer[0] = UncompressedBlock;
        uint crc = Checksum.Extend(Checksum.Compute(contents), trailer[..1]);
        Coding.WriteFixed32(trailer[1..], Checksum.Mask(crc));
    }
}

/// <summary>Where a block's contents live in the file; <see cref="Size"/> excludes the 5-byte trailer.</summary>
internal readonly record struct BlockHandle(long Offset, long Size)
{
    /// <summary>Two varint64s.</summary>
    public const int MaxEncodedLength = 2 * Coding.MaxVarint64Length;

    public int EncodeTo(Span<byte> dest)
    {
        int n = Coding.WriteVarint(dest, (ulong)Offset);
        return n + Coding.WriteVarint(dest[n..], (ulong)Size);
    }

    /// <summary>Decodes a handle; false when the bytes are not two varints or the values exceed <c>long.MaxValue</c>.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> src, out BlockHandle handle, out int length)
    {
        handle = default;
        length = 0;
        if (!Coding.TryReadVarint(src, out ulong offset, out int n1) || offset > long.MaxValue)
            return false;
        if (!Coding.TryReadVarint(src[n1..], out ulong size, out int n2) || size > long.MaxValue)
            return false;
        handle = new BlockHandle((long)offset, (long)size);
        length = n1 + n2;
        return true;
    }
}

/// <summary>
/// The fixed 64-byte footer at the end of every table:
/// filter handle, index handle (varints, zero-padded to 40 bytes), format version (u32), entry count (u64),
/// masked CRC32C of the preceding 52 bytes (u32), magic (u64). All fixed-width fields little-endian.
/// </summary>
internal readonly record struct Footer(BlockHandle Filter, BlockHandle Index, long EntryCount)
{
    public const int Size = 64;
    private const int HandlesSize = 40;
    private const int VersionOffset = 40;
    private const int EntryCountOffset = 44;
    private const int ChecksumOffset = 52;
    private const int MagicOffset = 56;

    public void EncodeTo(Span<byte> dest)
    {
        dest[..Size].Clear();
        int n = Filter.EncodeTo(dest);
        Index.EncodeTo(dest[n..]);
        Coding.WriteFixed32(dest[VersionOffset..], TableFormat.FormatVersion);
        Coding.WriteFixed64(dest[EntryCountOffset..], (ulong)EntryCount);
        Coding.WriteFixed32(dest[ChecksumOffset..], Checksum.Mask(Checksum.Compute(dest[..ChecksumOffset])));
        Coding.WriteFixed64(dest[MagicOffset..], TableFormat.Magic);
    }

    /// <summary>Parses and validates a footer read from <paramref name="footerOffset"/> of <paramref name="fileName"/>.</summary>
    public static Footer Decode(ReadOnlySpan<byte> src, string fileName, long footerOffset)
    {
        if (Coding.ReadFixed64(src[MagicOffset..]) != TableFormat.Magic)
            throw new CorruptionException(fileName, footerOffset + MagicOffset, "bad magic number: not an SSTable");
        uint stored = Checksum.Unmask(Coding.ReadFixed32(src[ChecksumOffset..]));
        if (stored != Checksum.Compute(src[..ChecksumOffset]))
            throw new CorruptionException(fileName, footerOffset, "footer checksum mismatch");
        uint version = Coding.ReadFixed32(src[VersionOffset..]);
        if (version != TableFormat.FormatVersion)
            throw new CorruptionException(fileName, footerOffset + VersionOffset, $"unsupported table format version {version} (this build reads version {TableFormat.FormatVersion})");
        ulong entryCount = Coding.ReadFixed64(src[EntryCountOffset..]);
        if (entryCount > long.MaxValue)
            throw new CorruptionException(fileName, footerOffset + EntryCountOffset, $"entry count {entryCount} out of range");

        var handles = src[..HandlesSize];
        if (!BlockHandle.TryDecode(handles, out var filter, out int n1)
            || !BlockHandle.TryDecode(handles[n1..], out var index, out int n2))
            throw new CorruptionException(fileName, footerOffset, "malformed block handle in footer");
        if (handles[(n1 + n2)..].ContainsAnyExcept((byte)0))
            throw new CorruptionException(fileName, footerOffset, "non-zero footer padding");
        return new Footer(filter, index, (long)entryCount);
    }
}
