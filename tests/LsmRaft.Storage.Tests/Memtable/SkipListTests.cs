using LsmRaft.Storage.Format;
using LsmRaft.Storage.Memtable;

namespace LsmRaft.Storage.Tests.Memtable;

public sealed class SkipListTests
{
    /// <summary>
    /// User keys built to stress the cached 16-byte prefix: a shared stem of 0 to 24 bytes (so keys tie on
    /// the first word, both words, or neither), short keys whose zero padding equals a longer key's zero bytes,
    /// and keys ending in zero bytes.
    /// </summary>
    private static byte[] RandomUserKey(Random random)
    {
        int stem = random.Next(0, 25);
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
        for (var node = list.First; node is not null; node = node.NextNode)
            iterated.Add(node.Key.ToArray());
        iterated.Should().HaveCount(model.Count);
        for (int i = 0; i < model.Count; i++)
            iterated[i].Should().Equal(model[i], $"position {i} (seed {seed})");

        for (int probe = 0; probe < 2000; probe++)
        {
            var target = InternalKey.Make(RandomUserKey(random), (ulong)random.Next(0, (int)sequence + 2), EntryKind.Value);
            int index = model.FindIndex(k => InternalKey.Compare(k, target) >= 0);
            var found = list.Seek(target);
            if (index < 0)
                found.Should().BeNull();
            else
                found!.Key.ToArray().Should().Equal(model[index], $"probe {probe} (seed {seed})");

            var less = list.FindLessThan(target);
            int lessIndex = (index < 0 ? model.Count : index) - 1;
            if (lessIndex < 0)
                less.Should().BeNull();
            else
                less!.Key.ToArray().Should().Equal(model[lessIndex], $"probe {probe} (seed {seed})");
        }
    }
}
