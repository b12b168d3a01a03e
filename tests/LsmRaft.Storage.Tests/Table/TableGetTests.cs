using System.Text;
using LsmRaft.Storage.Format;

namespace LsmRaft.Storage.Tests.Table;

public sealed class TableGetTests : IDisposable
{
    private readonly TableFixture _fixture = new();

    public void Dispose() => _fixture.Dispose();

    [Fact]
    public void Returns_the_newest_version_visible_at_each_snapshot_including_deletions()
    {
        var key = "k"u8.ToArray();
        var entries = new List<TestEntry>
        {
            TestEntry.Put("a", 50, "other"),
            TestEntry.Put(key, 10, "v10"u8.ToArray()),
            TestEntry.Delete(key, 7),
            TestEntry.Put(key, 5, "v5"u8.ToArray()),
            TestEntry.Put(key, 2, "v2"u8.ToArray()),
            TestEntry.Put("z", 1, "last"),
        };
        _fixture.Build("t.sst", entries);
        var reader = _fixture.Open("t.sst");

        (ulong Snapshot, EntryKind? Kind, string? Value)[] cases =
        [
            (1, null, null), (2, EntryKind.Value, "v2"), (4, EntryKind.Value, "v2"), (5, EntryKind.Value, "v5"),
            (6, EntryKind.Value, "v5"), (7, EntryKind.Deletion, null), (9, EntryKind.Deletion, null),
            (10, EntryKind.Value, "v10"), (1000, EntryKind.Value, "v10"), (ulong.MaxValue, EntryKind.Value, "v10"),
        ];
        foreach (var (snapshot, expectedKind, expectedValue) in cases)
        {
            bool found = reader.TryGet(key, snapshot, out var kind, out var value);
            found.Should().Be(expectedKind is not null, "snapshot {0}", snapshot);
            if (expectedKind is null)
                continue;
            kind.Should().Be(expectedKind.Value, "snapshot {0}", snapshot);
            (value is null ? null : Encoding.UTF8.GetString(value)).Should().Be(expectedValue, "snapshot {0}", snapshot);
        }
    }

    [Fact]
    public void Finds_the_visible_version_when_versions_span_many_blocks()
    {
        var key = "hot-key"u8.ToArray();
        var entries = new List<TestEntry> { TestEntry.Put("a", 1, "x") };
        for (ulong sequence = 600; sequence >= 2; sequence -= 2)
            entries.Add(sequence % 10 == 0 ? TestEntry.Delete(key, sequence) : TestEntry.Put(key, sequence, Encoding.UTF8.GetBytes($"v{sequence}")));
        entries.Add(TestEntry.Put("zz", 1, "y"));
        _fixture.Build("t.sst", entries, TableFixture.SmallBlocks with { BlockSize = 128 });
        var reader = _fixture.Open("t.sst");

        reader.TryGet(key, 1, out _, out _).Should().BeFalse();
        for (ulong snapshot = 2; snapshot <= 700; snapshot++)
        {
            ulong visible = Math.Min(600, snapshot & ~1UL);
            reader.TryGet(key, snapshot, out var kind, out var value).Should().BeTrue();
            if (visible % 10 == 0)
            {
                kind.Should().Be(EntryKind.Deletion, "snapshot {0}", snapshot);
                value.Should().BeNull();
            }
            else
            {
                kind.Should().Be(EntryKind.Value, "snapshot {0}", snapshot);
                Encoding.UTF8.GetString(value!).Should().Be($"v{visible}");
            }
        }
    }

    [Fact]
    public void Finds_every_key_of_a_large_table_and_misses_absent_ones()
    {
        var entries = TableFixture.GenerateEntries(seed: 17, userKeys: 5000, maxVersions: 2, maxValueLength: 64);
        _fixture.Build("t.sst", entries, TableFixture.SmallBlocks with { BlockSize = 4096, RestartInterval = 16 });
        var reader = _fixture.Open("t.sst");

        foreach (var group in entries.GroupBy(e => Convert.ToHexString(e.UserKey)))
        {
            var newest = group.First();
            reader.TryGet(newest.UserKey, ulong.MaxValue, out var kind, out var value).Should().BeTrue();
            kind.Should().Be(InternalKey.Kind(newest.Key));
            if (kind == EntryKind.Value)
                value.Should().Equal(newest.Value);
            else
                value.Should().BeNull();
        }
        var present = entries.Select(e => Convert.ToHexString(e.UserKey)).ToHashSet();
        var random = new Random(18);
        for (int i = 0; i < 2000; i++)
        {
            var probe = new byte[random.Next(1, 24)];
            random.NextBytes(probe);
            if (!present.Contains(Convert.ToHexString(probe)))
                reader.TryGet(probe, ulong.MaxValue, out _, out _).Should().BeFalse();
        }
    }

    [Fact]
    public void Counts_bloom_checks_useful_rejections_and_false_positives()
    {
        var entries = Enumerable.Range(0, 1000).Select(i => TestEntry.Put($"key{i:D5}", 10, "v")).ToList();
        _fixture.Build("t.sst", entries);
        var reader = _fixture.Open("t.sst");

        for (int i = 0; i < 1000; i++)
            reader.TryGet(Encoding.UTF8.GetBytes($"key{i:D5}"), 10, out _, out _).Should().BeTrue();
        _fixture.Counters.BloomChecks.Should().Be(1000);
        _fixture.Counters.BloomUseful.Should().Be(0);
        _fixture.Counters.BloomFalsePositives.Should().Be(0);

        // Present but invisible at the snapshot: the filter was right, so no false positive is counted.
        reader.TryGet("key00000"u8, 9, out _, out _).Should().BeFalse();
        _fixture.Counters.BloomFalsePositives.Should().Be(0);

        for (int i = 0; i < 5000; i++)
            reader.TryGet(Encoding.UTF8.GetBytes($"absent{i}"), 10, out _, out _).Should().BeFalse();
        var c = _fixture.Counters;
        c.BloomChecks.Should().Be(6001);
        (c.BloomUseful + c.BloomFalsePositives).Should().Be(5000);
        c.BloomFalsePositives.Should().BeInRange(1, 150, "about 1% of 5000 absent keys pass a 1% filter");
    }
}
