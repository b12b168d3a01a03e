using System.Text;
using LsmRaft.Storage.Format;
using LsmRaft.Storage.IO;
using LsmRaft.Storage.Versions;
using LsmRaft.Storage.Wal;
using static LsmRaft.Storage.Tests.Wal.LogTestFiles;

namespace LsmRaft.Storage.Tests.Versions;

/// <summary>
/// Freezes the manifest encoding: a fixed sequence of version edits written through <see cref="LogWriter"/>
/// must be byte-identical to Golden/manifest-v1.log and must decode back to the same edits.
/// Regenerate only for a deliberate format change: LSMRAFT_UPDATE_GOLDEN=1 dotnet test --filter ManifestGoldenTests.
/// </summary>
public sealed class ManifestGoldenTests
{
    private const string GoldenName = "manifest-v1.log";

    private static byte[] Key(string userKey, ulong sequence, EntryKind kind = EntryKind.Value) =>
        InternalKey.Make(Encoding.UTF8.GetBytes(userKey), sequence, kind);

    /// <summary>What a new database, a flush, an empty edit and a compaction would write.</summary>
    private static List<VersionEdit> GoldenEdits()
    {
        var open = new VersionEdit
        {
            Comparator = VersionEdit.BytewiseComparatorName,
            LogNumber = 1,
            NextFileNumber = 2,
            LastSequence = 0,
            AppliedIndex = -1,
        };

        var flush = new VersionEdit { LogNumber = 3, NextFileNumber = 5, LastSequence = 1000, AppliedIndex = 998 };
        flush.NewFiles.Add((0, new FileMetadata(4, 65_536, Key("apple", 1000), Key("zebra", 1), 1, 1000)));

        var compaction = new VersionEdit { NextFileNumber = 8, LastSequence = 5000 };
        compaction.DeletedFiles.Add((0, 4));
        compaction.DeletedFiles.Add((1, 6));
        compaction.NewFiles.Add((1, new FileMetadata(7, 131_072, Key("apple", 4000), Key("melon", 10, EntryKind.Deletion), 10, 4000)));
        compaction.NewFiles.Add((1, new FileMetadata(8, 99_999, Key("melon", 9), Key("zebra", 1), 1, 3000)));
        compaction.CompactPointers.Add((1, Key("melon", 9)));

        return [open, flush, new VersionEdit(), compaction];
    }

    [Fact]
    public void Fixed_version_edits_encode_to_the_golden_manifest()
    {
        var fs = NewFileSystem();
        var bytes = WriteLog(fs, "db/MANIFEST-000001", GoldenEdits().Select(e => e.Encode()));
        AssertMatchesGolden(GoldenName, bytes);
    }

    [Fact]
    public void Golden_manifest_decodes_back_to_the_fixed_version_edits()
    {
        string path = Path.Combine(AppContext.BaseDirectory, "Golden", GoldenName);
        var result = ReadLog(PhysicalFileSystem.Instance, path);
        var expected = GoldenEdits();
        result.Records.Should().HaveCount(expected.Count);
        for (int i = 0; i < expected.Count; i++)
            VersionEditTests.AssertSame(VersionEdit.Decode(result.Records[i], path), expected[i]);
        result.TornTail.Should().BeFalse();
    }
}
