using LsmRaft.Protocol.Hashing;

namespace LsmRaft.Protocol.Cluster;

/// <summary>
/// Finds the shard that owns a key or a ring point. Built once per shard-map version and immutable, so it
/// can be shared by any number of threads.
/// Invariant (checked by the constructor): the shards' ranges, in ring order, cover [0, 2^64 - 1] exactly
/// once, so every point has exactly one owner.
/// </summary>
public sealed class ShardMapLookup
{
    private readonly ShardInfo[] _shards;
    private readonly ulong[] _starts;

    /// <exception cref="ArgumentException">The ranges leave a gap, overlap, are inverted, or a shard id repeats.</exception>
    public ShardMapLookup(IReadOnlyList<ShardInfo> shards)
    {
        ArgumentNullException.ThrowIfNull(shards);
        if (shards.Count == 0)
            throw new ArgumentException("The shard map is empty: the whole ring [0x0000000000000000, 0xFFFFFFFFFFFFFFFF] has no owner.", nameof(shards));

        var sorted = shards.ToArray();
        var ids = new HashSet<ulong>();
        foreach (var shard in sorted)
        {
            ArgumentNullException.ThrowIfNull(shard, nameof(shards));
            if (shard.RangeStart > shard.RangeEnd)
                throw new ArgumentException($"Shard {shard.Id} has an inverted range: start 0x{shard.RangeStart:X16} is after end 0x{shard.RangeEnd:X16}.", nameof(shards));
            if (!ids.Add(shard.Id))
                throw new ArgumentException($"Shard id {shard.Id} appears more than once in the shard map.", nameof(shards));
        }

        Array.Sort(sorted, static (a, b) => a.RangeStart.CompareTo(b.RangeStart));

        if (sorted[0].RangeStart != 0)
            throw new ArgumentException($"Gap in the shard map: [0x0000000000000000, 0x{sorted[0].RangeStart - 1:X16}] has no owner (first shard {sorted[0].Id} starts at 0x{sorted[0].RangeStart:X16}).", nameof(shards));

        for (int i = 1; i < sorted.Length; i++)
        {
            var previous = sorted[i - 1];
            var current = sorted[i];

            // previous.RangeEnd == MaxValue means the ring is already covered, so anything after it overlaps;
            // checked first so that previous.RangeEnd + 1 below cannot wrap.
            if (previous.RangeEnd == ulong.MaxValue || current.RangeStart <= previous.RangeEnd)
            {
                ulong overlapEnd = Math.Min(previous.RangeEnd, current.RangeEnd);
                throw new ArgumentException($"Overlap in the shard map: shards {previous.Id} and {current.Id} both own [0x{current.RangeStart:X16}, 0x{overlapEnd:X16}].", nameof(shards));
            }

            if (current.RangeStart != previous.RangeEnd + 1)
                throw new ArgumentException($"Gap in the shard map: [0x{previous.RangeEnd + 1:X16}, 0x{current.RangeStart - 1:X16}] has no owner (between shards {previous.Id} and {current.Id}).", nameof(shards));
        }

        var last = sorted[^1];
        if (last.RangeEnd != ulong.MaxValue)
            throw new ArgumentException($"Gap in the shard map: [0x{last.RangeEnd + 1:X16}, 0xFFFFFFFFFFFFFFFF] has no owner (last shard {last.Id} ends at 0x{last.RangeEnd:X16}).", nameof(shards));

        _shards = sorted;
        _starts = Array.ConvertAll(sorted, static s => s.RangeStart);
    }

    /// <summary>The shards in ring order (ascending <see cref="ShardInfo.RangeStart"/>).</summary>
    public IReadOnlyList<ShardInfo> Shards => _shards;

    /// <summary>The shard owning <paramref name="key"/>: the one whose range holds <see cref="KeyHash.Hash"/> of it.</summary>
    public ShardInfo Find(ReadOnlySpan<byte> key) => Find(KeyHash.Hash(key));

    /// <summary>The shard whose range holds <paramref name="hash"/>.</summary>
    public ShardInfo Find(ulong hash)
    {
        // The owner is the last shard starting at or before the hash; _starts[0] == 0 guarantees one exists.
        int index = Array.BinarySearch(_starts, hash);
        if (index < 0)
            index = ~index - 1;
        return _shards[index];
    }
}
