using LsmRaft.Shared;
using System.Text;
using LsmRaft.Storage.Table;

namespace LsmRaft.Storage.Tests.Table;

public sealed class BloomFilterTests : IDisposable
{
    private readonly TableFixture _fixture = new();

    public void Dispose() => _fixture.Dispose();

    // Expected values computed with the reference C implementation (libxxhash 0.8.1, XXH64(data, len, seed));
    // the first three also appear in the xxHash project's documentation and sanity tests.
    [Theory]
    [InlineData("", 0UL, 0xEF46DB3751D8E999UL)]
    [InlineData("a", 0UL, 0xD24EC4F1A98C6E5BUL)]
    [InlineData("abc", 0UL, 0x44BC2CF5AD770999UL)]
    [InlineData("123456789", 0UL, 0x8CB841DB40E6AE83UL)]
    [InlineData("The quick brown fox jumps over the lazy dog", 0UL, 0x0B242D361FDA71BCUL)]
    public void XxHash64_matches_reference_vectors_for_text(string input, ulong seed, ulong expected)
    {
        XxHash64.Hash(Encoding.ASCII.GetBytes(input), seed).Should().Be(expected);
    }

    [Fact]
    public void XxHash64_matches_reference_vectors_for_binary_input_and_seeds()
    {
        var bytes0To99 = Enumerable.Range(0, 100).Select(i => (byte)i).ToArray();
        XxHash64.Hash(bytes0To99).Should().Be(0x6AC1E58032166597UL);
        XxHash64.Hash(bytes0To99, 0x9E3779B97F4A7C15UL).Should().Be(0x3B97D91EBA03E785UL);
        XxHash64.Hash([0x00, 0xFF, 0x00, 0xFF, 0x80]).Should().Be(0x886F170D2AF7912EUL);
    }

    [Theory]
    [InlineData(0.01, 7)]
    [InlineData(0.02, 6)]
    [InlineData(0.001, 10)]
    [InlineData(0.5, 1)]
    public void Hash_function_count_follows_the_false_positive_rate(double rate, int expectedK)
    {
        BloomFilter.OptimalHashFunctions(rate).Should().Be(expectedK);
    }

    [Theory]
    [InlineData(0.01)]
    [InlineData(0.02)]
    public void Measured_false_positive_rate_is_within_one_and_a_half_times_the_target(double rate)
    {
        const int keyCount = 10_000;
        const int probeCount = 200_000;
        var keys = Enumerable.Range(0, keyCount).Select(i => Encoding.UTF8.GetBytes($"user-key-{i}")).ToList();
        var contents = BloomFilter.Build(keys.Select(k => BloomFilter.HashKey(k)).ToList(),
            BloomFilter.BitsPerKey(rate), BloomFilter.OptimalHashFunctions(rate));
        var filter = BloomFilter.Parse(contents, "test", 0);

        keys.Should().OnlyContain(k => filter.MayContain(k), "a Bloom filter has no false negatives");
        int falsePositives = 0;
        for (int i = 0; i < probeCount; i++)
            if (filter.MayContain(Encoding.UTF8.GetBytes($"absent-key-{i}")))
                falsePositives++;
        double measured = (double)falsePositives / probeCount;
        measured.Should().BeLessThanOrEqualTo(rate * 1.5, $"measured {measured:P3} for target {rate:P1}");
    }

    [Fact]
    public void Table_filter_stores_the_configured_hash_count_and_bit_count()
    {
        var entries = Enumerable.Range(0, 1000).Select(i => TestEntry.Put($"k{i:D4}", 1, "v")).ToList();
        _fixture.Build("t.sst", entries, TableFixture.SmallBlocks with { BloomFalsePositiveRate = 0.05, BloomHashFunctions = 3 });
        var reader = _fixture.Open("t.sst");

        reader.Filter.HashFunctions.Should().Be(3);
        reader.Filter.BitCount.Should().Be((long)Math.Ceiling(1000 * BloomFilter.BitsPerKey(0.05) / 8) * 8);
        entries.Should().OnlyContain(e => reader.Filter.MayContain(e.UserKey));
    }

    [Fact]
    public void Filter_counts_each_user_key_once_however_many_versions_it_has()
    {
        var entries = Enumerable.Range(0, 100)
            .SelectMany(i => new[] { TestEntry.Put($"k{i:D3}", 9, "new"), TestEntry.Put($"k{i:D3}", 3, "old") })
            .ToList();
        _fixture.Build("t.sst", entries);
        var reader = _fixture.Open("t.sst");

        reader.Filter.BitCount.Should().Be((long)Math.Ceiling(100 * BloomFilter.BitsPerKey(0.01) / 8) * 8);
    }
}
