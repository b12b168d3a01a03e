using System.Buffers;

namespace LsmRaft.Protocol.Framing;

/// <summary>
/// CRC32C with LevelDB masking for frames: the shared implementation (src/Shared/Checksum.cs, compiled into
/// this assembly too) plus an overload over multi-segment buffers.
/// </summary>
internal static class Crc32C
{
    public static uint Compute(ReadOnlySpan<byte> data) => LsmRaft.Shared.Checksum.Compute(data);

    public static uint Compute(in ReadOnlySequence<byte> data)
    {
        if (data.IsSingleSegment)
            return Compute(data.FirstSpan);
        uint crc = 0;
        foreach (var segment in data)
            crc = Extend(crc, segment.Span);
        return crc;
    }

    /// <summary>Continues a CRC: <c>Extend(Compute(a), b) == Compute(a ++ b)</c>.</summary>
    public static uint Extend(uint crc, ReadOnlySpan<byte> data) => LsmRaft.Shared.Checksum.Extend(crc, data);

    public static uint Mask(uint crc) => LsmRaft.Shared.Checksum.Mask(crc);

    public static uint Unmask(uint masked) => LsmRaft.Shared.Checksum.Unmask(masked);
}
