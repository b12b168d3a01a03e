using LsmRaft.Storage.Format;

namespace LsmRaft.Storage.Table;

/// <summary>
/// The whole-table Bloom filter over user keys. Contents of the filter block:
/// <c>bits[numBits / 8] ++ numBits:u32 LE ++ k:u8</c>. Probe i of a key sets or tests bit
/// <c>FastRange(h + i * rotl(h, 32), numBits)</c> where <c>h = XxHash64(userKey, seed 0)</c>
/// (Kirsch–Mitzenmacher double hashing; additions wrap mod 2^64; <c>FastRange(x, m) = (x * m) >> 64</c>).
/// Bit b lives in byte b / 8 at bit position b % 8 (least significant first).
/// A filter with zero bits (empty table) matches nothing.
/// </summary>
internal sealed class BloomFilter
{
    public const int MinHashFunctions = 1;
    public const int MaxHashFunctions = 30;

    /// <summary>Bytes after the bit array: numBits (u32) and k (u8).</summary>
    private const int SuffixSize = 5;

    /// <summary>Small filters get at least this many bits so a handful of keys does not saturate them.</summary>
    private const int MinBits = 64;

    private readonly byte[] _bits;
    private readonly ulong _numBits;
    private readonly int _hashFunctions;

    private BloomFilter(byte[] bits, ulong numBits, int hashFunctions)
    {
        _bits = bits;
        _numBits = numBits;
        _hashFunctions = hashFunctions;
    }

    public int HashFunctions => _hashFunctions;

    public long BitCount => (long)_numBits;

    /// <summary>m/n = -ln(p) / ln(2)^2, the bits per key that minimise the false-positive rate p.</summary>
    public static double BitsPerKey(double falsePositiveRate) => -Math.Log(falsePositiveRate) / (Math.Log(2) * Math.Log(2));

    /// <summary>k = round(m/n * ln 2), clamped to 1..30.</summary>
    public static int OptimalHashFunctions(double falsePositiveRate) =>
        Math.Clamp((int)Math.Round(BitsPerKey(falsePositiveRate) * Math.Log(2)), MinHashFunctions, MaxHashFunctions);

    public static ulong HashKey(ReadOnlySpan<byte> userKey) => XxHash64.Hash(userKey);

    /// <summary>Builds filter block contents for keys with the given hashes.</summary>
    public static byte[] Build(IReadOnlyList<ulong> keyHashes, double bitsPerKey, int hashFunctions)
    {
        long bitsWanted = keyHashes.Count == 0 ? 0 : Math.Max(MinBits, (long)Math.Ceiling(keyHashes.Count * bitsPerKey));
        long byteCount = (bitsWanted + 7) / 8;
        if (byteCount * 8 > uint.MaxValue || byteCount + SuffixSize > Array.MaxLength)
            throw new InvalidOperationException($"A Bloom filter for {keyHashes.Count} keys at {bitsPerKey:F1} bits per key exceeds the format's 2^32-bit limit; write smaller tables.");

        var contents = new byte[byteCount + SuffixSize];
        var bits = contents.AsSpan(0, (int)byteCount);
        ulong numBits = (ulong)byteCount * 8;
        foreach (ulong hash in keyHashes)
        {
            ulong h = hash;
            ulong delta = (h >> 32) | (h << 32);
            for (int i = 0; i < hashFunctions; i++)
            {
                ulong bit = Math.BigMul(h, numBits, out _);
                bits[(int)(bit >> 3)] |= (byte)(1 << (int)(bit & 7));
                h += delta;
            }
        }
        Coding.WriteFixed32(contents.AsSpan((int)byteCount), (uint)numBits);
        contents[^1] = (byte)hashFunctions;
        return contents;
    }

    /// <summary>Parses filter block contents (checksum already verified); throws on an inconsistent layout.</summary>
    public static BloomFilter Parse(ReadOnlySpan<byte> contents, string fileName, long blockOffset)
    {
        if (contents.Length < SuffixSize)
            throw new CorruptionException(fileName, blockOffset, $"filter block of {contents.Length} bytes is shorter than its {SuffixSize}-byte suffix");
        int byteCount = contents.Length - SuffixSize;
        uint numBits = Coding.ReadFixed32(contents[byteCount..]);
        int k = contents[^1];
        if ((ulong)numBits != (ulong)byteCount * 8)
            throw new CorruptionException(fileName, blockOffset, $"filter block declares {numBits} bits but holds {byteCount} bytes");
        if (k is < MinHashFunctions or > MaxHashFunctions)
            throw new CorruptionException(fileName, blockOffset, $"filter block declares {k} hash functions (allowed {MinHashFunctions}..{MaxHashFunctions})");
        return new BloomFilter(contents[..byteCount].ToArray(), numBits, k);
    }

    /// <summary>False only when no key with this user key was added.</summary>
    public bool MayContain(ReadOnlySpan<byte> userKey) => MayContainHash(HashKey(userKey));

    public bool MayContainHash(ulong hash)
    {
        if (_numBits == 0)
            return false;
        var bits = _bits;
        ulong h = hash;
        ulong delta = (h >> 32) | (h << 32);
        for (int i = 0; i < _hashFunctions; i++)
        {
            ulong bit = Math.BigMul(h, _numBits, out _);
            if ((bits[(int)(bit >> 3)] & (1 << (int)(bit & 7))) == 0)
                return false;
            h += delta;
        }
        return true;
    }
}
