using System.Runtime.CompilerServices;
using System.Text;
using LsmRaft.Storage.Format;
using LsmRaft.Storage.Table;

namespace LsmRaft.Storage.Tests.Table;

/// <summary>
/// Pins the on-disk format: a fixed entry list with fixed options must produce exactly the bytes of
/// Golden/table-v1.sst. Set LSMRAFT_UPDATE_GOLDEN=1 to rewrite the file in the source tree after an
/// intended format change (and bump <see cref="TableFormat.FormatVersion"/> if old files no longer read).
/// </summary>
public sealed class TableGoldenTests : IDisposable
{
    private const string GoldenName = "table-v1.sst";
    private readonly TableFixture _fixture = new();

    public void Dispose() => _fixture.Dispose();

    private static TableOptions GoldenOptions => new(BlockSize: 200, RestartInterval: 3, BloomFalsePositiveRate: 0.01, BloomHashFunctions: null);

    private static List<TestEntry> GoldenEntries()
    {
        var entries = new List<TestEntry>
        {
            TestEntry.Put([], 1, "empty user key"u8.ToArray()),
            TestEntry.Put([0x00], 2, [0x00, 0xFF]),
        };
        for (int i = 0; i < 60; i++)
        {
            var userKey = Encoding.ASCII.GetBytes($"key-{i:D3}");
            entries.Add(TestEntry.Put(userKey, (ulong)(1000 + i * 2), Encoding.ASCII.GetBytes($"value-{i}-{new string((char)('a' + i % 26), i % 7)}")));
            if (i % 5 == 0)
                entries.Add(TestEntry.Delete(userKey, (ulong)(1000 + i * 2 - 1)));
        }
        entries.Add(TestEntry.Put([0xFF, 0xFF], 7, new byte[300]));
        return entries;
    }

    [Fact]
    public void Table_built_from_the_fixed_entries_is_byte_identical_to_the_golden_file()
    {
        _fixture.Build("golden.sst", GoldenEntries(), GoldenOptions);
        var actual = _fixture.ReadAllBytes("golden.sst");

        if (Environment.GetEnvironmentVariable("LSMRAFT_UPDATE_GOLDEN") == "1")
        {
            File.WriteAllBytes(Path.Combine(SourceGoldenDirectory(), GoldenName), actual);
            return;
        }

        var expected = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Golden", GoldenName));
        actual.Length.Should().Be(expected.Length);
        int firstDifference = actual.AsSpan().CommonPrefixLength(expected);
        firstDifference.Should().Be(expected.Length, "the table must match the golden file byte for byte (first difference at that offset)");
    }

    [Fact]
    public void Golden_file_reads_back_the_fixed_entries()
    {
        var bytes = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Golden", GoldenName));
        _fixture.WriteAllBytes(GoldenName, bytes);
        var reader = _fixture.Open(GoldenName);
        var entries = GoldenEntries();

        reader.EntryCount.Should().Be(entries.Count);
        using var iterator = reader.NewIterator();
        TableFixture.ReadForward(iterator).Should().BeEquivalentTo(entries.Select(e => (e.Key, e.Value)), o => o.WithStrictOrdering());
        reader.TryGet("key-010"u8, ulong.MaxValue, out var kind, out var value).Should().BeTrue();
        kind.Should().Be(EntryKind.Value);
        value.Should().Equal("value-10-kkk"u8.ToArray());
        reader.TryGet("key-010"u8, 1019, out kind, out _).Should().BeTrue();
        kind.Should().Be(EntryKind.Deletion);
    }

    private static string SourceGoldenDirectory([CallerFilePath] string thisFile = "") =>
        Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(thisFile)!)!, "Golden");
}
