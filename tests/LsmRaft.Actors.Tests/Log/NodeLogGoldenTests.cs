using LsmRaft.Actors.Log;
using LsmRaft.Raft;
using LsmRaft.Storage.IO;

namespace LsmRaft.Actors.Tests.Log;

/// <summary>
/// Pins the on-disk format (docs/formats/raft-log.md): a fixed sequence of operations must produce
/// Golden/raft-log-v1.rlog byte for byte, and that file must keep reading back. Regenerate after a
/// deliberate format change with LSMRAFT_UPDATE_GOLDEN=1 (and bump the format version).
/// </summary>
public sealed class NodeLogGoldenTests
{
    private const string GoldenName = "raft-log-v1.rlog";

    [Fact]
    public async Task Writing_a_fixed_history_produces_the_golden_segment_byte_for_byte()
    {
        var fs = new MemoryFileSystem();
        await using (var log = NodeLog.Open(fs, "log", new NodeLogOptions()))
            await WriteHistoryAsync(log);
        byte[] actual = ReadFile(fs, "log/000001.rlog");

        string goldenPath = Path.Combine(AppContext.BaseDirectory, "Golden", GoldenName);
        if (Environment.GetEnvironmentVariable("LSMRAFT_UPDATE_GOLDEN") == "1")
        {
            goldenPath = Path.Combine(SourceDirectory(), "Golden", GoldenName);
            File.WriteAllBytes(goldenPath, actual);
        }

        byte[] golden = File.ReadAllBytes(goldenPath);
        Convert.ToHexString(actual).Should().Be(Convert.ToHexString(golden));
    }

    [Fact]
    public async Task The_golden_segment_reads_back_as_the_history_that_wrote_it()
    {
        var fs = new MemoryFileSystem();
        fs.CreateDirectory("log");
        using (var file = fs.Create("log/000001.rlog"))
        {
            file.Append(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Golden", GoldenName)));
            file.Sync();
        }
        await using var log = NodeLog.Open(fs, "log", new NodeLogOptions());
        log.Groups.Should().BeEquivalentTo(new ulong[] { 1, 0xFEEDFACE });
        log.FirstIndex(1).Should().Be(3);
        log.LastIndex(1).Should().Be(4);
        log.Term(1, 2).Should().Be(1, "the compaction record keeps the term of its last index");
        NodeLogTests.Describe(log.ReadEntries(1, 3, 5)).Should().Be(NodeLogTests.Describe([
            new Entry(2, 3, EntryType.Normal, [0xC0, 0xFF, 0xEE]),
            new Entry(2, 4, EntryType.ConfChange, "add node 4"u8.ToArray()),
        ]));
        log.GetHardState(1).Should().Be(new HardState(2, 7, 3));
        NodeLogTests.Describe(log.ReadEntries(0xFEEDFACE, 1, 2)).Should().Be(NodeLogTests.Describe([new Entry(5, 1, EntryType.Normal, [])]));
        log.GetHardState(0xFEEDFACE).Should().Be(new HardState(5, 5, 0));
    }

    /// <summary>Every record type appears: Entries, HardState, Truncate (by an overwrite) and Compact.</summary>
    private static async Task WriteHistoryAsync(NodeLog log)
    {
        await log.AppendAsync(1, [new Entry(1, 1, EntryType.Normal, "one"u8.ToArray()), new Entry(1, 2, EntryType.Normal, "two"u8.ToArray()), new Entry(1, 3, EntryType.Normal, "three"u8.ToArray())], new HardState(1, 7, 1), default);
        await log.AppendAsync(0xFEEDFACE, [new Entry(5, 1, EntryType.Normal, [])], new HardState(5, 5, 0), default);
        await log.AppendAsync(1, [new Entry(2, 3, EntryType.Normal, [0xC0, 0xFF, 0xEE]), new Entry(2, 4, EntryType.ConfChange, "add node 4"u8.ToArray())], new HardState(2, 7, 3), default);
        await log.CompactAsync(1, 2, default);
    }

    private static byte[] ReadFile(MemoryFileSystem fs, string path)
    {
        using var file = fs.OpenRead(path);
        var data = new byte[file.Length];
        file.Read(0, data);
        return data;
    }

    private static string SourceDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "LsmRaft.Actors.Tests.csproj")))
                return dir.FullName;
        throw new DirectoryNotFoundException("LsmRaft.Actors.Tests.csproj not found above " + AppContext.BaseDirectory);
    }
}
