using System.Numerics;
using System.Runtime.InteropServices;

namespace LsmRaft.Shared;

/// <summary>
/// One source file compiled into both LsmRaft.Storage and LsmRaft.Protocol (linked, not referenced, because
/// neither library may depend on the other).
/// CRC32C (Castagnoli) over a byte span, using the in-box hardware instruction via
/// <see cref="BitOperations.Crc32C(uint, ulong)"/>. Stored checksums are masked, as in LevelDB,
/// so that a CRC computed over data that itself embeds CRCs does not degenerate.
/// </summary>
internal static class Checksum
{
    private const uint MaskDelta = 0xa282ead8u;

    public static uint Compute(ReadOnlySpan<byte> data) => Extend(0, data);

    /// <summary>Continues a CRC32C: <c>Extend(Compute(a), b) == Compute(a ++ b)</c>.</summary>
    public static uint Extend(uint crc, ReadOnlySpan<byte> data)
    {
        uint state = ~crc;
        var longs = MemoryMarshal.Cast<byte, ulong>(data);
        foreach (ulong word in longs)
            state = BitOperations.Crc32C(state, word);
        for (int i = longs.Length * 8; i < data.Length; i++)
            state = BitOperations.Crc32C(state, data[i]);
        return ~state;
    }

    public static uint Mask(uint crc) => ((crc >> 15) | (crc << 17)) + MaskDelta;

    public static uint Unmask(uint masked)
    {
        uint rot = masked - MaskDelta;
        return (rot >> 17) | (rot << 15);
    }
}
