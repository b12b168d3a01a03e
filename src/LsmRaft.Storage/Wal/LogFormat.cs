using LsmRaft.Storage.Format;

namespace LsmRaft.Storage.Wal;

/// <summary>The type byte of a fragment header. A record is one FULL fragment or FIRST, MIDDLE*, LAST.</summary>
internal enum FragmentType : byte
{
    /// <summary>Never written; a zero byte here means the header is padding or unwritten space.</summary>
    Zero = 0,
    Full = 1,
    First = 2,
    Middle = 3,
    Last = 4,
}

/// <summary>
/// Constants of the record log format shared by the WAL and the manifest (docs/formats/wal.md).
/// A log is a sequence of <see cref="BlockSize"/> blocks; a fragment never crosses a block boundary,
/// so a reader can always resynchronise at the next block start. The first record of every log is
/// the file header: a FULL record whose payload is <see cref="Magic"/> followed by <see cref="Version"/>
/// as a little-endian uint32.
/// </summary>
internal static class LogFormat
{
    public const int BlockSize = 32 * 1024;

    /// <summary>masked CRC32C (4, LE) + payload length (2, LE) + type (1).</summary>
    public const int HeaderSize = 7;

    /// <summary>Largest payload one fragment can carry (a fragment that starts a block).</summary>
    public const int MaxFragmentPayload = BlockSize - HeaderSize;

    public const uint Version = 1;

    /// <summary>Payload size of the file header record: magic + version.</summary>
    public const int FileHeaderPayloadSize = 12;

    /// <summary>"LSMRLOG1": identifies the framing, which the WAL and the manifest share.</summary>
    public static ReadOnlySpan<byte> Magic => "LSMRLOG1"u8;

    /// <summary>The stored (masked) checksum of a fragment: CRC32C over the type byte, then the payload.</summary>
    public static uint FragmentChecksum(FragmentType type, ReadOnlySpan<byte> payload)
    {
        Span<byte> typeByte = stackalloc byte[1];
        typeByte[0] = (byte)type;
        return Checksum.Mask(Checksum.Extend(Checksum.Compute(typeByte), payload));
    }

    public static bool IsKnownType(byte type) => type is >= (byte)FragmentType.Full and <= (byte)FragmentType.Last;
}
