using System.Text;
using LsmRaft.Storage.Cache;
using LsmRaft.Storage.Format;
using LsmRaft.Storage.IO;
using LsmRaft.Storage.Table;
using LsmRaft.Storage.Versions;

namespace LsmRaft.Storage.Tests.Table;

/// <summary>One entry as a test writes it: an internal key and its value.</summary>
internal sealed record TestEntry(byte[] Key, byte[] Value)
{
    public static TestEntry Put(string userKey, ulong sequence, string value) =>
        new(InternalKey.Make(Encoding.UTF8.GetBytes(userKey), sequence, EntryKind.Value), Encoding.UTF8.GetBytes(value));

    public static TestEntry Put(byte[] userKey, ulong sequence, byte[] value) =>
        new(InternalKey.Make(userKey, sequence, EntryKind.Value), value);

    public static TestEntry Delete(byte[] userKey, ulong sequence) =>
        new(InternalKey.Make(userKey, sequence, EntryKind.Deletion), []);

    public byte[] UserKey => InternalKey.UserKey(Key).ToArray();
}

/// <summary>Builds tables in a <see cref="MemoryFileSystem"/> and opens readers on them.</summary>
internal sealed class TableFixture : IDisposable
{
    public const string Directory = "db";

    private readonly List<TableReader> _readers = new();

    public TableFixture()
    {
        FileSystem.CreateDirectory(Directory);
    }

    public MemoryFileSystem FileSystem { get; } = new();

    public BlockCache Cache { get; } = new(8 << 20);

    public EngineCounters Counters { get; } = new();

    public static TableOptions SmallBlocks => new(BlockSize: 256, RestartInterval: 4, BloomFalsePositiveRate: 0.01, BloomHashFunctions: null);

    public static string PathOf(string name) => $"{Directory}/{name}";

    /// <summary>Writes <paramref name="entries"/> (already sorted) to a table; returns its size.</summary>
    public long Build(string name, IEnumerable<TestEntry> entries, TableOptions? options = null)
    {
        using var file = FileSystem.Create(PathOf(name));
        using var builder = new TableBuilder(file, options ?? SmallBlocks);
        foreach (var entry in entries)
            builder.Add(entry.Key, entry.Value);
        long size = builder.Finish();
        file.Sync();
        return size;
    }

    public TableReader Open(string name)
    {
        var reader = TableReader.Open(FileSystem.OpenRead(PathOf(name)), name, Cache, Counters);
        _readers.Add(reader);
        return reader;
    }

    public byte[] ReadAllBytes(string name)
    {
        using var file = FileSystem.OpenRead(PathOf(name));
        var bytes = new byte[file.Length];
        file.Read(0, bytes).Should().Be(bytes.Length);
        return bytes;
    }

    public void WriteAllBytes(string name, byte[] bytes)
    {
        using var file = FileSystem.Create(PathOf(name));
        file.Append(bytes);
        file.Sync();
    }

    public static List<(byte[] Key, byte[] Value)> ReadForward(IInternalIterator iterator)
    {
        var result = new List<(byte[], byte[])>();
        for (iterator.SeekToFirst(); iterator.Valid; iterator.Next())
            result.Add((iterator.Key.ToArray(), iterator.Value.ToArray()));
        return result;
    }

    public static List<(byte[] Key, byte[] Value)> ReadBackward(IInternalIterator iterator)
    {
        var result = new List<(byte[], byte[])>();
        for (iterator.SeekToLast(); iterator.Valid; iterator.Prev())
            result.Add((iterator.Key.ToArray(), iterator.Value.ToArray()));
        return result;
    }

    /// <summary>Sorted, distinct user keys with one or more versions each, values of varied length.</summary>
    public static List<TestEntry> GenerateEntries(int seed, int userKeys, int maxVersions, int maxValueLength)
    {
        var random = new Random(seed);
        var keys = new SortedSet<byte[]>(ByteKeyComparer.Instance);
        while (keys.Count < userKeys)
        {
            var key = new byte[random.Next(1, 24)];
            random.NextBytes(key);
            keys.Add(key);
        }
        var entries = new List<TestEntry>();
        ulong sequence = 1;
        foreach (var key in keys)
        {
            int versions = random.Next(1, maxVersions + 1);
            var sequences = Enumerable.Range(0, versions).Select(_ => sequence += (ulong)random.Next(1, 5)).OrderDescending();
            foreach (ulong s in sequences)
            {
                if (random.Next(8) == 0)
                {
                    entries.Add(TestEntry.Delete(key, s));
                }
                else
                {
                    var value = new byte[random.Next(0, maxValueLength + 1)];
                    random.NextBytes(value);
                    entries.Add(TestEntry.Put(key, s, value));
                }
            }
        }
        return entries;
    }

    public void Dispose()
    {
        foreach (var reader in _readers)
            reader.Dispose();
    }
}
