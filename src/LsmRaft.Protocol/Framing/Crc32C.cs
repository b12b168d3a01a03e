using System.Buffers;
using System.Buffers.Binary;
using System.Numerics;

namespace LsmRaft.Protocol.Framing;

/// <summary>
/// CRC32C (Castagnoli, reflected polynomial 0x82F63B78, initial and final XOR 0xFFFFFFFF) over the in-box
/// hardware instruction, and LevelDB's masking of stored CRCs. Kept here rather than shared with
/// LsmRaft.Storage because the client must not depend on the storage engine; the two agree bit for bit
/// (both pinned by the check value CRC32C("123456789") = 0xE3069283).
/// </summary>
internal static class Crc32C
{
    private const uint MaskDelta = 0xa282ead8u;

    public static uint Compute(ReadOnlySpan<byte> data) => Extend(0, data);

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
    public static uint Extend(uint crc, ReadOnlySpan<byte> data)
    {
        uint state = ~crc;
        int i = 0;
        for (; i + 8 <= data.Length; i += 8)
            state = BitOperations.Crc32C(state, BinaryPrimitives.ReadUInt64LittleEndian(data.Slice(i)));
        for (; i < data.Length; i++)
            state = BitOperations.Crc32C(state, data[i]);
        return ~state;
    }

    /// <summary>
    /// Rotates and offsets a CRC before it is stored, so a CRC computed over bytes that themselves contain
    /// CRCs (a frame carrying a snapshot chunk of checksummed files) does not degenerate.
    /// </summary>
    public static uint Mask(uint crc) => ((crc >> 15) | (crc << 17)) + MaskDelta;

    public static uint Unmask(uint masked)
    {
        uint rotated = masked - MaskDelta;
        return (rotated >> 17) | (rotated << 15);
    }
}
