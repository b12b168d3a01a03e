using System.Buffers.Binary;

namespace LsmRaft.Storage.Format;

/// <summary>Varint (LEB128, as in protobuf and LevelDB) and fixed-width little-endian helpers.</summary>
internal static class Coding
{
    public const int MaxVarint32Length = 5;
    public const int MaxVarint64Length = 10;

    public static int VarintLength(ulong value)
    {
        int n = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            n++;
        }
        return n;
    }

    /// <summary>Writes <paramref name="value"/> at the start of <paramref name="dest"/>; returns the bytes written.</summary>
    public static int WriteVarint(Span<byte> dest, ulong value)
    {
        int i = 0;
        while (value >= 0x80)
        {
            dest[i++] = (byte)(value | 0x80);
            value >>= 7;
        }
        dest[i++] = (byte)value;
        return i;
    }

    /// <summary>Reads a varint; returns false when the input ends early or the varint is over-long.</summary>
    public static bool TryReadVarint(ReadOnlySpan<byte> src, out ulong value, out int length)
    {
        value = 0;
        int shift = 0;
        for (int i = 0; i < src.Length && i < MaxVarint64Length; i++)
        {
            byte b = src[i];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                length = i + 1;
                return true;
            }
            shift += 7;
        }
        length = 0;
        return false;
    }

    /// <summary>Reads a varint that must fit in 31 bits (lengths); returns false on malformed input.</summary>
    public static bool TryReadLength(ReadOnlySpan<byte> src, out int value, out int length)
    {
        if (!TryReadVarint(src, out ulong v, out length) || v > int.MaxValue)
        {
            value = 0;
            return false;
        }
        value = (int)v;
        return true;
    }

    public static void WriteFixed32(Span<byte> dest, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(dest, value);

    public static void WriteFixed64(Span<byte> dest, ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(dest, value);

    public static uint ReadFixed32(ReadOnlySpan<byte> src) => BinaryPrimitives.ReadUInt32LittleEndian(src);

    public static ulong ReadFixed64(ReadOnlySpan<byte> src) => BinaryPrimitives.ReadUInt64LittleEndian(src);
}
