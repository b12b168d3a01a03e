using System.Text;
using LsmRaft.Storage.IO;
using LsmRaft.Storage.Wal;
using static LsmRaft.Storage.Tests.Wal.LogTestFiles;

namespace LsmRaft.Storage.Tests.Wal;

/// <summary>
/// Freezes log format version 1: a fixed record sequence must encode to exactly Golden/wal-v1.log, and
/// that file must read back as the same records. Regenerate only for a deliberate format change (which
/// also bumps <see cref="LogFormat.Version"/>): LSMRAFT_UPDATE_GOLDEN=1 dotnet test --filter LogGoldenTests.
/// </summary>
public sealed class LogGoldenTests
{
    private const string GoldenName = "wal-v1.log";

    /// <summary>A payload pattern defined here, not by System.Random, so the golden bytes never depend on a runtime.</summary>
    private static byte[] Pattern(int length, int salt)
    {
        var bytes = new byte[length];
        for (int i = 0; i < length; i++)
            bytes[i] = (byte)(i * 31 + salt * 17 + (i >> 8));
        return bytes;
    }

    /// <summary>
    /// Empty, small, a record that leaves a 3-byte block tail (zero padding), one that spans three blocks
    /// (FIRST, MIDDLE, LAST) and a small final record.
    /// </summary>
    private static List<byte[]> GoldenRecords()
    {
        const int FileHeaderRecordSize = LogFormat.HeaderSize + LogFormat.FileHeaderPayloadSize;
        var records = new List<byte[]>
        {
            Array.Empty<byte>(),
            Encoding.ASCII.GetBytes("put alpha=1"),
            Pattern(1000, 1),
        };
        int used = FileHeaderRecordSize + records.Sum(r => LogFormat.HeaderSize + r.Length);
        records.Add(Pattern(LogFormat.BlockSize - used - LogFormat.HeaderSize - 3, 2));
        records.Add(Pattern(70_000, 3));
        records.Add(Encoding.ASCII.GetBytes("the end"));
        return records;
    }

    [Fact]
    public void Fixed_records_encode_to_the_golden_wal_file()
    {
        var fs = NewFileSystem();
        var bytes = WriteLog(fs, LogPath, GoldenRecords());
        bytes[LogFormat.BlockSize - 3].Should().Be(0, "the sequence must exercise block padding");
        AssertMatchesGolden(GoldenName, bytes);
    }

    [Fact]
    public void Golden_wal_file_reads_back_as_the_fixed_records()
    {
        string path = Path.Combine(AppContext.BaseDirectory, "Golden", GoldenName);
        var result = ReadLog(PhysicalFileSystem.Instance, path);
        var expected = GoldenRecords();
        result.Records.Should().HaveCount(expected.Count);
        for (int i = 0; i < expected.Count; i++)
            result.Records[i].Should().Equal(expected[i], $"golden record {i}");
        result.TornTail.Should().BeFalse();
        result.ValidLength.Should().Be(new FileInfo(path).Length);
    }
}
