using System.Buffers.Binary;

namespace LsmRaft.Bench.Storage;

/// <summary>
/// Keys and values laid out exactly as RocksDB's db_bench makes them, so both engines store the same bytes.
/// </summary>
internal static class DbBenchData
{
    /// <summary>
    /// db_bench's <c>GenerateKeyFromInt</c> (no prefixes): the low <c>min(keySize, 8)</c> bytes of
    /// <paramref name="value"/> big-endian, then ASCII '0' up to <paramref name="key"/>'s length.
    /// Big-endian makes byte order equal numeric order, so fillseq writes in ascending key order.
    /// </summary>
    public static void EncodeKey(ulong value, Span<byte> key)
    {
        if (key.Length >= 8)
        {
            BinaryPrimitives.WriteUInt64BigEndian(key, value);
            key[8..].Fill((byte)'0');
            return;
        }
        for (int i = 0; i < key.Length; i++)
            key[i] = (byte)(value >> ((key.Length - i - 1) * 8));
    }

    /// <summary>
    /// Only the first 8 bytes of a key vary; the '0' padding can be written once per buffer and then
    /// <see cref="EncodeKeyPrefix"/> used in the hot loop.
    /// </summary>
    public static void EncodeKeyPrefix(ulong value, Span<byte> key)
    {
        if (key.Length >= 8)
            BinaryPrimitives.WriteUInt64BigEndian(key, value);
        else
            EncodeKey(value, key);
    }

    /// <summary>
    /// db_bench's <c>RandomGenerator</c> data: 100-byte pieces from <c>test::CompressibleString</c>
    /// (<c>floor(100 * ratio)</c> printable random characters from a Park–Miller generator seeded
    /// with 301, repeated to 100 bytes), appended until at least max(1 MiB, value size) bytes.
    /// With ratio 0.5 a compressor would halve them; LsmRaft has no compression, so it stores them whole.
    /// </summary>
    public static byte[] CompressibleValueData(int valueSize, double compressionRatio)
    {
        const int PieceLength = 100;
        int target = Math.Max(1 << 20, valueSize);
        int raw = Math.Max(1, (int)(PieceLength * compressionRatio));
        int pieces = (target + PieceLength - 1) / PieceLength;
        var data = new byte[pieces * PieceLength];
        var random = new ParkMillerRandom(301);
        for (int p = 0; p < pieces; p++)
        {
            var piece = data.AsSpan(p * PieceLength, PieceLength);
            for (int i = 0; i < raw && i < PieceLength; i++)
                piece[i] = (byte)(' ' + random.Uniform(95));
            for (int i = raw; i < PieceLength; i++)
                piece[i] = piece[i - raw];
        }
        return data;
    }
}

/// <summary>
/// A cursor over the shared value data, as db_bench's <c>RandomGenerator::Generate</c>: successive
/// slices, restarting at 0 when the next slice would run past the end. One per thread.
/// </summary>
internal struct ValueCursor
{
    private readonly byte[] _data;
    private int _position;

    public ValueCursor(byte[] data)
    {
        _data = data;
        _position = 0;
    }

    public ReadOnlySpan<byte> Next(int length)
    {
        if (_position + length > _data.Length)
            _position = 0;
        _position += length;
        return new ReadOnlySpan<byte>(_data, _position - length, length);
    }
}

/// <summary>RocksDB's <c>Random</c> (Park–Miller "minimal standard", multiplier 16807), used for value data.</summary>
internal struct ParkMillerRandom
{
    private const uint Modulus = 2147483647;
    private const ulong Multiplier = 16807;
    private uint _seed;

    public ParkMillerRandom(uint seed)
    {
        _seed = seed & 0x7FFFFFFFu;
        if (_seed is 0 or Modulus)
            _seed = 1;
    }

    public uint Next()
    {
        ulong product = _seed * Multiplier;
        // Computes product % (2^31 - 1) without a division: 2^31 ≡ 1 (mod 2^31 - 1).
        _seed = (uint)((product >> 31) + (product & Modulus));
        if (_seed > Modulus)
            _seed -= Modulus;
        return _seed;
    }

    public uint Uniform(int n) => Next() % (uint)n;
}
