using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace LsmRaft.Protocol.Hashing;

/// <summary>
/// An inclusive range [<see cref="Start"/>, <see cref="End"/>] of the 64-bit hash ring.
/// Invariant: <c>Start &lt;= End</c>.
/// </summary>
public readonly record struct HashRange
{
    public HashRange(ulong start, ulong end)
    {
        if (start > end)
            throw new ArgumentException($"Hash range start 0x{start:X16} is after its end 0x{end:X16}.", nameof(start));
        Start = start;
        End = end;
    }

    public ulong Start { get; }

    public ulong End { get; }

    public bool Contains(ulong hash) => hash >= Start && hash <= End;

    public override string ToString() => $"[0x{Start:X16}, 0x{End:X16}]";
}

/// <summary>
/// The one hash that places keys on the ring, shared by nodes and clients: XXH64 with seed 0 over the raw key
/// bytes (docs/hashing.md). Changing it moves every key to another shard, so it is frozen; the vectors in
/// <c>tests/LsmRaft.Protocol.Tests/testdata/keyhash-vectors.txt</c> pin it for every implementation.
/// </summary>
public static class KeyHash
{
    /// <summary>The XXH64 seed used for keys. Part of the on-disk and on-wire contract.</summary>
    public const ulong Seed = 0;

    private const ulong Prime1 = 0x9E3779B185EBCA87UL;
    private const ulong Prime2 = 0xC2B2AE3D27D4EB4FUL;
    private const ulong Prime3 = 0x165667B19E3779F9UL;
    private const ulong Prime4 = 0x85EBCA77C2B2AE63UL;
    private const ulong Prime5 = 0x27D4EB2F165667C5UL;

    /// <summary>The point of the ring a key lives at.</summary>
    public static ulong Hash(ReadOnlySpan<byte> key) => XxHash64(key, Seed);

    /// <summary>
    /// Splits the ring into <paramref name="shards"/> contiguous ranges of equal size (to within one point),
    /// in ring order: range i starts at floor(i * 2^64 / n). The first starts at 0, the last ends at
    /// <see cref="ulong.MaxValue"/>, and each starts one after the previous ends.
    /// </summary>
    public static IReadOnlyList<HashRange> SplitRing(int shards)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(shards, 1);
        var ringSize = (UInt128)ulong.MaxValue + 1;
        var ranges = new HashRange[shards];
        ulong start = 0;
        for (int i = 0; i < shards; i++)
        {
            // Computed in 128 bits: i * 2^64 overflows 64, and the last range must end exactly at 2^64 - 1.
            ulong end = (ulong)((UInt128)(i + 1) * ringSize / (UInt128)shards - 1);
            ranges[i] = new HashRange(start, end);
            start = end + 1;
        }

        return ranges;
    }

    /// <summary>XXH64 as specified in xxHash's doc/xxhash_spec.md (little-endian lanes, any seed).</summary>
    internal static ulong XxHash64(ReadOnlySpan<byte> input, ulong seed)
    {
        int length = input.Length;
        ulong acc;
        int offset = 0;

        if (length >= 32)
        {
            ulong v1 = seed + Prime1 + Prime2;
            ulong v2 = seed + Prime2;
            ulong v3 = seed;
            ulong v4 = seed - Prime1;
            int stripeLimit = length - 32;
            do
            {
                v1 = Round(v1, BinaryPrimitives.ReadUInt64LittleEndian(input.Slice(offset)));
                v2 = Round(v2, BinaryPrimitives.ReadUInt64LittleEndian(input.Slice(offset + 8)));
                v3 = Round(v3, BinaryPrimitives.ReadUInt64LittleEndian(input.Slice(offset + 16)));
                v4 = Round(v4, BinaryPrimitives.ReadUInt64LittleEndian(input.Slice(offset + 24)));
                offset += 32;
            }
            while (offset <= stripeLimit);

            acc = BitOperations.RotateLeft(v1, 1) + BitOperations.RotateLeft(v2, 7)
                + BitOperations.RotateLeft(v3, 12) + BitOperations.RotateLeft(v4, 18);
            acc = MergeRound(acc, v1);
            acc = MergeRound(acc, v2);
            acc = MergeRound(acc, v3);
            acc = MergeRound(acc, v4);
        }
        else
        {
            acc = seed + Prime5;
        }

        acc += (ulong)length;

        while (length - offset >= 8)
        {
            acc ^= Round(0, BinaryPrimitives.ReadUInt64LittleEndian(input.Slice(offset)));
            acc = (BitOperations.RotateLeft(acc, 27) * Prime1) + Prime4;
            offset += 8;
        }

        if (length - offset >= 4)
        {
            acc ^= BinaryPrimitives.ReadUInt32LittleEndian(input.Slice(offset)) * Prime1;
            acc = (BitOperations.RotateLeft(acc, 23) * Prime2) + Prime3;
            offset += 4;
        }

        while (offset < length)
        {
            acc ^= input[offset] * Prime5;
            acc = BitOperations.RotateLeft(acc, 11) * Prime1;
            offset++;
        }

        acc ^= acc >> 33;
        acc *= Prime2;
        acc ^= acc >> 29;
        acc *= Prime3;
        acc ^= acc >> 32;
        return acc;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Round(ulong acc, ulong lane)
    {
        acc += lane * Prime2;
        acc = BitOperations.RotateLeft(acc, 31);
        return acc * Prime1;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong MergeRound(ulong acc, ulong value)
    {
        acc ^= Round(0, value);
        return (acc * Prime1) + Prime4;
    }
}
