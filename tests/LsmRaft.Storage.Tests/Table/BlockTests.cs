using LsmRaft.Storage.Format;
using LsmRaft.Storage.Table;

namespace LsmRaft.Storage.Tests.Table;

public sealed class BlockTests
{
    private const string FileName = "block-test.sst";

    private static Block BuildBlock(IEnumerable<byte[]> keys, int restartInterval)
    {
        using var builder = new BlockBuilder(restartInterval, 256);
        foreach (var key in keys)
            builder.Add(key, key.AsSpan(0, 2));
        var contents = builder.Finish().ToArray();
        return new Block(contents, contents.Length, FileName, 1234);
    }

    private static List<byte[]> Keys(int count) =>
        Enumerable.Range(0, count).Select(i => InternalKey.Make(System.Text.Encoding.ASCII.GetBytes($"key{i:D4}"), 1, EntryKind.Value)).ToList();

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(16)]
    public void Cursor_walks_both_ways_and_seeks_across_restart_intervals(int restartInterval)
    {
        var keys = Keys(50);
        var block = BuildBlock(keys, restartInterval);
        block.RestartCount.Should().Be((50 + restartInterval - 1) / restartInterval);

        var cursor = default(BlockCursor);
        cursor.Init(block);
        var forward = new List<byte[]>();
        for (cursor.SeekToFirst(); cursor.Valid; cursor.Next())
            forward.Add(cursor.Key.ToArray());
        forward.Should().BeEquivalentTo(keys, o => o.WithStrictOrdering());

        var backward = new List<byte[]>();
        for (cursor.SeekToLast(); cursor.Valid; cursor.Prev())
            backward.Add(cursor.Key.ToArray());
        backward.Should().BeEquivalentTo(Enumerable.Reverse(keys), o => o.WithStrictOrdering());

        foreach (var key in keys)
        {
            cursor.Seek(key);
            cursor.Key.ToArray().Should().Equal(key);
            cursor.Value.ToArray().Should().Equal(key[..2]);
        }
        cursor.Seek(InternalKey.Make("zzz"u8, 1, EntryKind.Value));
        cursor.Valid.Should().BeFalse();
        cursor.ReleaseBuffer();
    }

    [Fact]
    public void Empty_block_has_one_restart_and_no_entries()
    {
        var block = BuildBlock([], 4);
        block.IsEmpty.Should().BeTrue();
        var cursor = default(BlockCursor);
        cursor.Init(block);
        cursor.SeekToFirst();
        cursor.Valid.Should().BeFalse();
        cursor.SeekToLast();
        cursor.Valid.Should().BeFalse();
        cursor.Seek(InternalKey.Make("a"u8, 1, EntryKind.Value));
        cursor.Valid.Should().BeFalse();
    }

    public static TheoryData<string, byte[]> MalformedBlocks()
    {
        // Ten 15-byte keys, restart interval 4: entries of 20 bytes at restarts (offsets 0, 76, 152), 14 bytes between.
        var valid = BuildBlock(Keys(10), 4).Data;
        var data = new TheoryData<string, byte[]>
        {
            { "too short for a restart count", [1, 2] },
            { "restart count larger than the block", [0, 0, 0, 0, 0xFF, 0, 0, 0] },
            { "zero restart count", [0, 0, 0, 0] },
            { "restart outside the entries", With(valid, valid.Length - 8, [0xF0, 0, 0, 0]) },
            { "first restart not at zero", With(valid, valid.Length - 16, [1, 0, 0, 0]) },
            { "shared prefix at a restart point", With(valid, 0, [3]) },
            { "key length past the end", With(valid, 0, [0, 0xFF]) },
            { "value length past the end", With(valid, 0, [0, 15, 0xFF]) },
            { "overlong varint", With(valid, 0, [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]) },
            { "key shorter than a trailer", With(valid, 0, [0, 4, 2]) },
            { "second entry shares more than the first key", With(valid, 20, [0x40]) },
        };
        return data;
    }

    [Theory]
    [MemberData(nameof(MalformedBlocks))]
    public void Malformed_block_contents_raise_corruption_naming_the_file(string description, byte[] contents)
    {
        var act = () =>
        {
            var block = new Block(contents, contents.Length, FileName, 1234);
            var cursor = default(BlockCursor);
            cursor.Init(block);
            for (cursor.SeekToFirst(); cursor.Valid; cursor.Next())
            {
            }
            for (cursor.SeekToLast(); cursor.Valid; cursor.Prev())
            {
            }
            cursor.Seek(InternalKey.Make("key0005"u8, 1, EntryKind.Value));
        };
        act.Should().Throw<CorruptionException>(description).Which.File.Should().Be(FileName);
    }

    [Fact]
    public void Separator_is_shortened_between_distinct_user_keys_and_stays_between_them()
    {
        var dest = new byte[64];
        var a = InternalKey.Make("abc1234"u8, 5, EntryKind.Value);
        var b = InternalKey.Make("abd"u8, 9, EntryKind.Value);
        // 'c' + 1 == 'd' leaves no room, so the full key stays.
        int n = IndexSeparator.ShortestSeparator(a, b, dest);
        dest[..n].Should().Equal(a);

        b = InternalKey.Make("abz"u8, 9, EntryKind.Value);
        n = IndexSeparator.ShortestSeparator(a, b, dest);
        InternalKey.UserKey(dest.AsSpan(0, n)).ToArray().Should().Equal("abd"u8.ToArray());
        InternalKey.Sequence(dest.AsSpan(0, n)).Should().Be(InternalKey.MaxSequence);

        n = IndexSeparator.ShortSuccessor(a, dest);
        InternalKey.UserKey(dest.AsSpan(0, n)).ToArray().Should().Equal("b"u8.ToArray());
        var allFF = InternalKey.Make([0xFF, 0xFF], 3, EntryKind.Value);
        n = IndexSeparator.ShortSuccessor(allFF, dest);
        dest[..n].Should().Equal(allFF);
    }

    [Fact]
    public void Separator_lies_between_its_neighbours_for_random_key_pairs()
    {
        var random = new Random(77);
        var dest = new byte[64];
        for (int i = 0; i < 20_000; i++)
        {
            var a = RandomKey(random);
            var b = RandomKey(random);
            int order = InternalKey.Compare(a, b);
            if (order == 0)
                continue;
            if (order > 0)
                (a, b) = (b, a);
            int n = IndexSeparator.ShortestSeparator(a, b, dest);
            var separator = dest.AsSpan(0, n);
            InternalKey.Compare(a, separator).Should().BeLessThanOrEqualTo(0, "seed 77, pair {0}", i);
            InternalKey.Compare(separator, b).Should().BeLessThan(0, "seed 77, pair {0}", i);
            n = IndexSeparator.ShortSuccessor(a, dest);
            InternalKey.Compare(a, dest.AsSpan(0, n)).Should().BeLessThanOrEqualTo(0);
        }
    }

    private static byte[] RandomKey(Random random)
    {
        // A tiny alphabet makes shared prefixes, equal user keys and 0x00/0xFF neighbours common.
        byte[] alphabet = [0x00, 0x01, 0x7F, 0x80, 0xFE, 0xFF];
        var userKey = new byte[random.Next(0, 5)];
        for (int i = 0; i < userKey.Length; i++)
            userKey[i] = alphabet[random.Next(alphabet.Length)];
        return InternalKey.Make(userKey, (ulong)random.Next(0, 4), (EntryKind)random.Next(2));
    }

    private static byte[] With(byte[] source, int offset, byte[] patch)
    {
        var copy = (byte[])source.Clone();
        patch.CopyTo(copy, offset);
        return copy;
    }
}
