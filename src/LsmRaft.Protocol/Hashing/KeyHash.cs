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

    /// <summary>XXH64 (the shared implementation in src/Shared/XxHash64.cs, compiled into this assembly).</summary>
    internal static ulong XxHash64(ReadOnlySpan<byte> input, ulong seed) => LsmRaft.Shared.XxHash64.Hash(input, seed);
}
