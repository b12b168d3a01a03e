using LsmRaft.Storage.Format;
using LsmRaft.Storage.Table;

namespace LsmRaft.Storage.Tests.Table;

public sealed class TableRoundTripTests : IDisposable
{
    private readonly TableFixture _fixture = new();

    public void Dispose() => _fixture.Dispose();

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 4)]
    [InlineData(3, 16)]
    public void Iterates_every_entry_forward_and_backward_in_order(int seed, int restartInterval)
    {
        var entries = TableFixture.GenerateEntries(seed, userKeys: 2000, maxVersions: 3, maxValueLength: 100);
        _fixture.Build("t.sst", entries, TableFixture.SmallBlocks with { RestartInterval = restartInterval });
        var reader = _fixture.Open("t.sst");
        reader.EntryCount.Should().Be(entries.Count);

        using var iterator = reader.NewIterator();
        var expected = entries.Select(e => (e.Key, e.Value)).ToList();
        TableFixture.ReadForward(iterator).Should().BeEquivalentTo(expected, o => o.WithStrictOrdering());
        expected.Reverse();
        TableFixture.ReadBackward(iterator).Should().BeEquivalentTo(expected, o => o.WithStrictOrdering());
    }

    [Fact]
    public void Seek_to_every_key_lands_on_it_and_seek_between_keys_lands_on_the_next()
    {
        var entries = TableFixture.GenerateEntries(seed: 11, userKeys: 1500, maxVersions: 3, maxValueLength: 40);
        _fixture.Build("t.sst", entries);
        using var iterator = _fixture.Open("t.sst").NewIterator();

        for (int i = 0; i < entries.Count; i++)
        {
            iterator.Seek(entries[i].Key);
            iterator.Valid.Should().BeTrue();
            iterator.Key.ToArray().Should().Equal(entries[i].Key);
            iterator.Value.ToArray().Should().Equal(entries[i].Value);

            // Just after entry i: the same user key with an older sequence, and the user key extended by 0x00.
            var userKey = entries[i].UserKey;
            ulong sequence = InternalKey.Sequence(entries[i].Key);
            AssertSeekLandsOn(iterator, InternalKey.Make(userKey, sequence - 1, EntryKind.Value), entries, i + 1);
            AssertSeekLandsOn(iterator, InternalKey.Make([.. userKey, 0x00], InternalKey.MaxSequence, EntryKind.Value),
                entries, entries.FindIndex(e => ByteKeyComparer.Instance.Compare(e.UserKey, userKey) > 0));
        }

        AssertSeekLandsOn(iterator, InternalKey.Make([], InternalKey.MaxSequence, EntryKind.Value), entries, 0);
        AssertSeekLandsOn(iterator, InternalKey.Make(Enumerable.Repeat((byte)0xFF, 40).ToArray(), 0, EntryKind.Deletion), entries, -1);
    }

    [Fact]
    public void Direction_changes_mid_scan_visit_neighbours()
    {
        var entries = TableFixture.GenerateEntries(seed: 5, userKeys: 800, maxVersions: 2, maxValueLength: 30);
        _fixture.Build("t.sst", entries);
        using var iterator = _fixture.Open("t.sst").NewIterator();
        var random = new Random(99);

        iterator.SeekToFirst();
        int position = 0;
        for (int step = 0; step < 20_000; step++)
        {
            if (random.Next(2) == 0 && position < entries.Count - 1)
            {
                iterator.Next();
                position++;
            }
            else if (position > 0)
            {
                iterator.Prev();
                position--;
            }
            iterator.Valid.Should().BeTrue();
            iterator.Key.ToArray().Should().Equal(entries[position].Key, "step {0}", step);
        }

        iterator.SeekToFirst();
        iterator.Prev();
        iterator.Valid.Should().BeFalse();
        iterator.SeekToLast();
        iterator.Next();
        iterator.Valid.Should().BeFalse();
    }

    [Fact]
    public void Binary_keys_with_zero_and_ff_bytes_keep_unsigned_order()
    {
        byte[][] userKeys =
        [
            [], [0x00], [0x00, 0x00], [0x00, 0xFF], [0x01], [0x7F], [0x7F, 0xFF, 0xFF], [0x80], [0x80, 0x00],
            [0xFE, 0xFF], [0xFF], [0xFF, 0x00], [0xFF, 0xFF], [0xFF, 0xFF, 0xFF, 0xFF],
        ];
        var entries = userKeys.Select((k, i) => TestEntry.Put(k, 100, [(byte)i])).ToList();
        // Blocks of one entry each exercise every index separator between these neighbours.
        _fixture.Build("t.sst", entries, TableFixture.SmallBlocks with { BlockSize = 64, RestartInterval = 1 });
        var reader = _fixture.Open("t.sst");

        using var iterator = reader.NewIterator();
        TableFixture.ReadForward(iterator).Select(e => e.Key).Should().BeEquivalentTo(entries.Select(e => e.Key), o => o.WithStrictOrdering());
        for (int i = 0; i < userKeys.Length; i++)
        {
            reader.TryGet(userKeys[i], 100, out var kind, out var value).Should().BeTrue();
            kind.Should().Be(EntryKind.Value);
            value.Should().Equal((byte)i);
        }
        reader.TryGet([0xFF, 0xFF, 0xFF], 100, out _, out _).Should().BeFalse();
        reader.TryGet([0x00, 0x01], 100, out _, out _).Should().BeFalse();
    }

    [Fact]
    public void Empty_table_has_no_entries_and_answers_every_query_with_nothing()
    {
        long size = _fixture.Build("empty.sst", []);
        var reader = _fixture.Open("empty.sst");

        reader.FileSize.Should().Be(size);
        reader.EntryCount.Should().Be(0);
        reader.TryGet("a"u8, ulong.MaxValue, out _, out _).Should().BeFalse();
        reader.ApproximateOffsetOf(InternalKey.Make("a"u8, 1, EntryKind.Value)).Should().Be(0);
        using var iterator = reader.NewIterator();
        iterator.SeekToFirst();
        iterator.Valid.Should().BeFalse();
        iterator.SeekToLast();
        iterator.Valid.Should().BeFalse();
        iterator.Seek(InternalKey.Make("a"u8, 1, EntryKind.Value));
        iterator.Valid.Should().BeFalse();
    }

    [Fact]
    public void A_value_larger_than_the_block_size_round_trips()
    {
        var huge = new byte[300_000];
        new Random(3).NextBytes(huge);
        var entries = new List<TestEntry>
        {
            TestEntry.Put("a", 1, "small"),
            TestEntry.Put("b"u8.ToArray(), 2, huge),
            TestEntry.Put("c", 3, "after"),
        };
        _fixture.Build("t.sst", entries, TableFixture.SmallBlocks with { BlockSize = 4096 });
        var reader = _fixture.Open("t.sst");

        reader.TryGet("b"u8, 10, out var kind, out var value).Should().BeTrue();
        kind.Should().Be(EntryKind.Value);
        value.Should().Equal(huge);
        using var iterator = reader.NewIterator();
        TableFixture.ReadBackward(iterator).Select(e => e.Value.Length).Should().Equal(5, huge.Length, 5);
    }

    [Fact]
    public void Builder_rejects_keys_out_of_order_and_adds_after_finish()
    {
        using var file = _fixture.FileSystem.Create(TableFixture.PathOf("t.sst"));
        using var builder = new TableBuilder(file, TableFixture.SmallBlocks);
        builder.Add(InternalKey.Make("b"u8, 5, EntryKind.Value), "x"u8);

        builder.Invoking(b => b.Add(InternalKey.Make("a"u8, 9, EntryKind.Value), "x"u8)).Should().Throw<InvalidOperationException>();
        builder.Invoking(b => b.Add(InternalKey.Make("b"u8, 5, EntryKind.Value), "x"u8)).Should().Throw<InvalidOperationException>();
        builder.Invoking(b => b.Add(InternalKey.Make("b"u8, 6, EntryKind.Value), "x"u8)).Should().Throw<InvalidOperationException>("a newer version sorts first");

        builder.Add(InternalKey.Make("b"u8, 4, EntryKind.Deletion), []);
        builder.EntryCount.Should().Be(2);
        builder.Finish().Should().Be(file.Length);
        builder.Invoking(b => b.Add(InternalKey.Make("c"u8, 1, EntryKind.Value), "x"u8)).Should().Throw<InvalidOperationException>();
    }

    [Fact]
    public void Builder_rejects_options_out_of_range_naming_the_option()
    {
        using var file = _fixture.FileSystem.Create(TableFixture.PathOf("t.sst"));
        var act = () => new TableBuilder(file, TableFixture.SmallBlocks with { BloomFalsePositiveRate = 1.5 });
        act.Should().Throw<InvalidOptionException>().Which.Option.Should().Be(nameof(TableOptions.BloomFalsePositiveRate));
        act = () => new TableBuilder(file, TableFixture.SmallBlocks with { BloomHashFunctions = 31 });
        act.Should().Throw<InvalidOptionException>().Which.Option.Should().Be(nameof(TableOptions.BloomHashFunctions));
        act = () => new TableBuilder(file, TableFixture.SmallBlocks with { RestartInterval = 0 });
        act.Should().Throw<InvalidOptionException>().Which.Option.Should().Be(nameof(TableOptions.RestartInterval));
    }

    [Fact]
    public void Estimated_file_size_grows_with_entries_and_ends_at_the_file_size()
    {
        using var file = _fixture.FileSystem.Create(TableFixture.PathOf("t.sst"));
        using var builder = new TableBuilder(file, TableFixture.SmallBlocks);
        long previous = builder.EstimatedFileSize;
        previous.Should().Be(0);
        foreach (var entry in TableFixture.GenerateEntries(seed: 8, userKeys: 200, maxVersions: 1, maxValueLength: 50))
        {
            builder.Add(entry.Key, entry.Value);
            builder.EstimatedFileSize.Should().BeGreaterThan(previous);
            previous = builder.EstimatedFileSize;
        }
        long size = builder.Finish();
        size.Should().BeGreaterThan(previous);
        builder.EstimatedFileSize.Should().Be(size);
    }

    [Fact]
    public void Approximate_offsets_increase_with_the_key_and_stay_inside_the_file()
    {
        var entries = TableFixture.GenerateEntries(seed: 21, userKeys: 3000, maxVersions: 1, maxValueLength: 60);
        long size = _fixture.Build("t.sst", entries);
        var reader = _fixture.Open("t.sst");

        reader.ApproximateOffsetOf(entries[0].Key).Should().Be(0);
        long previous = 0;
        foreach (var entry in entries)
        {
            long offset = reader.ApproximateOffsetOf(entry.Key);
            offset.Should().BeGreaterThanOrEqualTo(previous);
            previous = offset;
        }
        previous.Should().BeGreaterThan(size / 2);
        long end = reader.ApproximateOffsetOf(InternalKey.Make(Enumerable.Repeat((byte)0xFF, 30).ToArray(), 0, EntryKind.Deletion));
        end.Should().BeGreaterThan(previous).And.BeLessThan(size);
    }

    [Fact]
    public void Data_blocks_are_served_from_the_block_cache_and_released_on_dispose()
    {
        var entries = TableFixture.GenerateEntries(seed: 4, userKeys: 500, maxVersions: 1, maxValueLength: 20);
        _fixture.Build("t.sst", entries);
        var reader = TableReader.Open(_fixture.FileSystem.OpenRead(TableFixture.PathOf("t.sst")), "t.sst", _fixture.Cache, _fixture.Counters);

        reader.TryGet(entries[100].UserKey, ulong.MaxValue, out _, out _).Should().BeTrue();
        long misses = _fixture.Cache.Misses;
        reader.TryGet(entries[100].UserKey, ulong.MaxValue, out _, out _).Should().BeTrue();
        _fixture.Cache.Misses.Should().Be(misses);
        _fixture.Cache.Hits.Should().BeGreaterThan(0);
        _fixture.Cache.UsageBytes.Should().BeGreaterThan(0);

        reader.Dispose();
        _fixture.Cache.UsageBytes.Should().Be(0);
    }

    [Fact]
    public void Cached_point_lookups_and_scans_allocate_only_the_returned_values()
    {
        var entries = Enumerable.Range(0, 2000).Select(i => TestEntry.Put($"key{i:D5}", 7, "0123456789abcdef")).ToList();
        _fixture.Build("t.sst", entries, TableFixture.SmallBlocks with { BlockSize = 4096, RestartInterval = 16 });
        var reader = _fixture.Open("t.sst");
        var userKeys = entries.Select(e => e.UserKey).ToArray();
        using var iterator = reader.NewIterator();
        for (iterator.SeekToFirst(); iterator.Valid; iterator.Next())
        {
        }
        foreach (var key in userKeys)
            reader.TryGet(key, 100, out _, out _);

        long before = GC.GetAllocatedBytesForCurrentThread();
        int found = 0;
        foreach (var key in userKeys)
            found += reader.TryGet(key, 100, out _, out _) ? 1 : 0;
        long getBytes = GC.GetAllocatedBytesForCurrentThread() - before;

        before = GC.GetAllocatedBytesForCurrentThread();
        long scanned = 0;
        for (iterator.SeekToFirst(); iterator.Valid; iterator.Next())
            scanned += iterator.Value.Length;
        for (iterator.SeekToLast(); iterator.Valid; iterator.Prev())
            scanned += iterator.Key.Length;
        long scanBytes = GC.GetAllocatedBytesForCurrentThread() - before;

        found.Should().Be(userKeys.Length);
        scanned.Should().BeGreaterThan(0);
        // Each lookup returns a fresh 16-byte value array (40 bytes with its header on 64-bit).
        getBytes.Should().BeLessThanOrEqualTo(userKeys.Length * 40L);
        scanBytes.Should().Be(0);
    }

    private static void AssertSeekLandsOn(IInternalIterator iterator, byte[] target, List<TestEntry> entries, int expectedIndex)
    {
        iterator.Seek(target);
        if (expectedIndex < 0 || expectedIndex >= entries.Count)
        {
            iterator.Valid.Should().BeFalse();
            return;
        }
        iterator.Valid.Should().BeTrue();
        iterator.Key.ToArray().Should().Equal(entries[expectedIndex].Key);
    }
}
