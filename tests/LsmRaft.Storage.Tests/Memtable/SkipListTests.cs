using LsmRaft.Storage.Format;
using LsmRaft.Storage.Memtable;

namespace LsmRaft.Storage.Tests.Memtable;

public sealed class SkipListTests
{
    /// <summary>
    /// User keys built to stress the cached 24-byte prefix: a shared stem of 0 to 30 bytes (so keys tie on
    /// one, two, all three words, or none), short keys whose zero padding equals a longer key's zero bytes,
    /// and keys ending in zero bytes.
    /// </summary>
    private static byte[] RandomUserKey(Random random)
    {
        int stem = random.Next(0, 31);
        int tail = random.Next(0, 6);
        var key = new byte[stem + tail];
        for (int i = 0; i < stem; i++)
            key[i] = (byte)(i % 3 == 0 ? 0 : 'a' + i % 5);
        for (int i = stem; i < key.Length; i++)
            key[i] = (byte)random.Next(0, 3);
        return key;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Iteration_and_seek_follow_internal_key_order_for_keys_sharing_long_prefixes(int seed)
    {
        var random = new Random(seed);
        var list = new SkipList((uint)seed);
        var model = new List<byte[]>();
        ulong sequence = 0;
        for (int i = 0; i < 3000; i++)
        {
            var internalKey = InternalKey.Make(RandomUserKey(random), ++sequence, random.Next(2) == 0 ? EntryKind.Value : EntryKind.Deletion);
            list.Insert(internalKey, [(byte)i]);
            model.Add(internalKey);
        }
        model.Sort(InternalKeyComparer.Instance);

        var iterated = new List<byte[]>();
        for (int node = list.First; node != 0; node = list.Next(node))
        {
            iterated.Add(list.Key(node).ToArray());
            list.Value(node).Length.Should().Be(1);
        }
        iterated.Should().HaveCount(model.Count);
        list.Key(list.Last).ToArray().Should().Equal(model[^1]);
        for (int i = 0; i < model.Count; i++)
            iterated[i].Should().Equal(model[i], $"position {i} (seed {seed})");

        for (int probe = 0; probe < 2000; probe++)
        {
            var target = InternalKey.Make(RandomUserKey(random), (ulong)random.Next(0, (int)sequence + 2), EntryKind.Value);
            int index = model.FindIndex(k => InternalKey.Compare(k, target) >= 0);
            int found = list.Seek(target);
            if (index < 0)
                found.Should().Be(0);
            else
                list.Key(found).ToArray().Should().Equal(model[index], $"probe {probe} (seed {seed})");

            int less = list.FindLessThan(target);
            int lessIndex = (index < 0 ? model.Count : index) - 1;
            if (lessIndex < 0)
                less.Should().Be(0);
            else
                list.Key(less).ToArray().Should().Equal(model[lessIndex], $"probe {probe} (seed {seed})");
        }
    }

    [Fact]
    public void Values_of_every_size_round_trip_across_arena_chunks()
    {
        var random = new Random(11);
        var list = new SkipList(11);
        var expected = new SortedDictionary<byte[], byte[]>(InternalKeyComparer.Instance);
        for (int i = 0; i < 400; i++)
        {
            var key = InternalKey.Make(System.Text.Encoding.ASCII.GetBytes($"key-{i:D6}"), (ulong)i + 1, EntryKind.Value);
            // Mostly small values, some larger than a data chunk's quarter (a chunk of their own), some empty.
            var value = new byte[random.Next(8) switch { 0 => 0, 1 => random.Next(2000, 300_000), _ => random.Next(1, 200) }];
            random.NextBytes(value);
            list.Insert(key, value);
            expected[key] = value;
        }
        int node = list.First;
        foreach (var (key, value) in expected)
        {
            node.Should().NotBe(0);
            list.Key(node).ToArray().Should().Equal(key);
            list.Value(node).SequenceEqual(value).Should().BeTrue();
            node = list.Next(node);
        }
        node.Should().Be(0);
    }

    [Fact]
    public async Task A_reader_running_beside_the_writer_sees_only_complete_entries_in_order()
    {
        var list = new SkipList(5);
        const int total = 50_000;
        using var done = new CancellationTokenSource();
        int passes = 0;
        var reader = Task.Run(() =>
        {
            while (!done.IsCancellationRequested || passes == 0)
            {
                byte[]? previous = null;
                for (int node = list.First; node != 0; node = list.Next(node))
                {
                    var key = list.Key(node);
                    // Every value is its key's user part reversed: a torn or foreign value would not match.
                    var user = InternalKey.UserKey(key).ToArray();
                    Array.Reverse(user);
                    list.Value(node).SequenceEqual(user).Should().BeTrue();
                    if (previous is not null)
                        InternalKey.Compare(previous, key).Should().BeNegative();
                    previous = key.ToArray();
                }
                passes++;
            }
        });
        var random = new Random(5);
        for (int i = 0; i < total; i++)
        {
            var user = System.Text.Encoding.ASCII.GetBytes($"p{random.Next(64):D4}-{i:D12}");
            var value = (byte[])user.Clone();
            Array.Reverse(value);
            list.Insert(InternalKey.Make(user, (ulong)i + 1, EntryKind.Value), value);
        }
        done.Cancel();
        await reader;
        list.Count.Should().Be(total);
        passes.Should().BeGreaterThan(0);
    }
}
