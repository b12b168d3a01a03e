using LsmRaft.Protocol.Cluster;
using LsmRaft.Protocol.Hashing;
using Xunit.Abstractions;

namespace LsmRaft.Protocol.Tests;

public sealed class RingTests(ITestOutputHelper output)
{
    public static TheoryData<int> ShardCounts()
    {
        var data = new TheoryData<int>();
        for (int n = 1; n <= 64; n++)
            data.Add(n);
        return data;
    }

    [Theory]
    [MemberData(nameof(ShardCounts))]
    public void SplitRing_covers_the_whole_ring_exactly_once_in_near_equal_parts(int shards)
    {
        var ranges = KeyHash.SplitRing(shards);

        ranges.Should().HaveCount(shards);
        ranges[0].Start.Should().Be(0);
        ranges[^1].End.Should().Be(ulong.MaxValue);
        for (int i = 1; i < ranges.Count; i++)
            ranges[i].Start.Should().Be(ranges[i - 1].End + 1, "range {0} must start right after range {1}", i, i - 1);

        var sizes = ranges.Select(r => (UInt128)(r.End - r.Start) + 1).ToList();
        sizes.Aggregate(UInt128.Zero, (a, b) => a + b).Should().Be((UInt128)ulong.MaxValue + 1);
        (sizes.Max() - sizes.Min()).Should().BeLessThanOrEqualTo(UInt128.One);
    }

    [Fact]
    public void SplitRing_in_two_halves_the_ring_at_two_to_the_63()
    {
        KeyHash.SplitRing(2).Should().Equal(new HashRange(0, (1UL << 63) - 1), new HashRange(1UL << 63, ulong.MaxValue));
        KeyHash.SplitRing(1).Should().Equal(new HashRange(0, ulong.MaxValue));
    }

    [Fact]
    public void SplitRing_rejects_fewer_than_one_shard()
    {
        FluentActions.Invoking(() => KeyHash.SplitRing(0)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => KeyHash.SplitRing(-3)).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Theory]
    [MemberData(nameof(ShardCounts))]
    public void Lookup_finds_the_shard_whose_range_holds_the_hash(int shardCount)
    {
        int seed = 7919 * shardCount;
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        var shards = BuildShards(KeyHash.SplitRing(shardCount));
        var shuffled = shards.ToArray();
        random.Shuffle(shuffled);

        var lookup = new ShardMapLookup(shuffled);

        lookup.Shards.Select(s => s.RangeStart).Should().BeInAscendingOrder();
        foreach (var shard in shards)
        {
            lookup.Find(shard.RangeStart).Should().BeSameAs(shard);
            lookup.Find(shard.RangeEnd).Should().BeSameAs(shard);
        }

        for (int i = 0; i < 2000; i++)
        {
            ulong hash = (ulong)random.NextInt64() ^ ((ulong)random.Next(2) << 63);
            lookup.Find(hash).Should().BeSameAs(shards.Single(s => s.Contains(hash)), "hash 0x{0:X16}", hash);
        }
    }

    [Fact]
    public void Lookup_by_key_uses_the_key_hash()
    {
        var random = new Random(42);
        var lookup = new ShardMapLookup(BuildShards(KeyHash.SplitRing(16)));
        for (int i = 0; i < 500; i++)
        {
            var key = new byte[random.Next(0, 40)];
            random.NextBytes(key);
            var shard = lookup.Find(key);
            shard.Contains(KeyHash.Hash(key)).Should().BeTrue();
            shard.Should().BeSameAs(lookup.Find(KeyHash.Hash(key)));
        }
    }

    [Fact]
    public void Lookup_names_a_gap_between_shards()
    {
        var shards = new[] { Shard(1, 0, 99), Shard(2, 200, ulong.MaxValue) };
        FluentActions.Invoking(() => new ShardMapLookup(shards)).Should().Throw<ArgumentException>()
            .WithMessage("Gap in the shard map: [0x0000000000000064, 0x00000000000000C7]*shards 1 and 2*");
    }

    [Fact]
    public void Lookup_names_an_overlap_between_shards()
    {
        var shards = new[] { Shard(1, 0, 150), Shard(2, 100, ulong.MaxValue) };
        FluentActions.Invoking(() => new ShardMapLookup(shards)).Should().Throw<ArgumentException>()
            .WithMessage("Overlap in the shard map: shards 1 and 2 both own [0x0000000000000064, 0x0000000000000096]*");
    }

    [Fact]
    public void Lookup_names_an_overlap_after_a_shard_that_reaches_the_end_of_the_ring()
    {
        var shards = new[] { Shard(1, 0, ulong.MaxValue), Shard(2, 5, 10) };
        FluentActions.Invoking(() => new ShardMapLookup(shards)).Should().Throw<ArgumentException>()
            .WithMessage("Overlap*shards 1 and 2 both own [0x0000000000000005, 0x000000000000000A]*");
    }

    [Fact]
    public void Lookup_names_uncovered_ends_of_the_ring()
    {
        FluentActions.Invoking(() => new ShardMapLookup([Shard(1, 10, ulong.MaxValue)])).Should().Throw<ArgumentException>()
            .WithMessage("Gap in the shard map: [0x0000000000000000, 0x0000000000000009]*");
        FluentActions.Invoking(() => new ShardMapLookup([Shard(1, 0, ulong.MaxValue - 1)])).Should().Throw<ArgumentException>()
            .WithMessage("Gap in the shard map: [0xFFFFFFFFFFFFFFFF, 0xFFFFFFFFFFFFFFFF]*");
        FluentActions.Invoking(() => new ShardMapLookup([])).Should().Throw<ArgumentException>().WithMessage("*empty*");
    }

    [Fact]
    public void Lookup_rejects_inverted_ranges_and_repeated_ids()
    {
        FluentActions.Invoking(() => new ShardMapLookup([Shard(1, 0, 10), Shard(2, 20, 11), Shard(3, 11, ulong.MaxValue)]))
            .Should().Throw<ArgumentException>().WithMessage("Shard 2 has an inverted range*");
        FluentActions.Invoking(() => new ShardMapLookup([Shard(1, 0, 10), Shard(1, 11, ulong.MaxValue)]))
            .Should().Throw<ArgumentException>().WithMessage("Shard id 1 appears more than once*");
    }

    private static ShardInfo Shard(ulong id, ulong start, ulong end) => new(id, start, end, 1, [1, 2, 3], [], 1);

    private static List<ShardInfo> BuildShards(IReadOnlyList<HashRange> ranges) =>
        ranges.Select((r, i) => Shard((ulong)i + 1, r.Start, r.End)).ToList();
}
