using System.Buffers.Binary;
using LsmRaft.Storage.Wal;
using static LsmRaft.Storage.Tests.Wal.LogTestFiles;

namespace LsmRaft.Storage.Tests.Wal;

public sealed class LogHeaderTests
{
    private const int FileHeaderRecordSize = LogFormat.HeaderSize + LogFormat.FileHeaderPayloadSize;

    private static byte[] HeaderPayload(ReadOnlySpan<byte> magic, uint version)
    {
        var payload = new byte[LogFormat.FileHeaderPayloadSize];
        magic.CopyTo(payload);
        BinaryPrimitives.WriteUInt32LittleEndian(payload.AsSpan(8), version);
        return payload;
    }

    [Fact]
    public void Writer_starts_every_log_with_a_full_record_holding_magic_and_version()
    {
        var bytes = HeaderOnly();
        bytes.Should().Equal(Fragment(FragmentType.Full, HeaderPayload("LSMRLOG1"u8, 1)));
    }

    [Fact]
    public void Log_with_only_a_header_has_no_records_and_no_torn_tail()
    {
        var fs = NewFileSystem();
        WriteFile(fs, LogPath, HeaderOnly());
        var result = ReadLog(fs, LogPath);
        result.Records.Should().BeEmpty();
        result.TornTail.Should().BeFalse();
        result.ValidLength.Should().Be(FileHeaderRecordSize);
    }

    [Fact]
    public void Empty_file_is_a_log_whose_first_write_was_torn()
    {
        // A crash between creating a log and its first sync leaves an empty file: not corruption.
        var fs = NewFileSystem();
        WriteFile(fs, LogPath, []);
        var result = ReadLog(fs, LogPath);
        result.Records.Should().BeEmpty();
        result.TornTail.Should().BeTrue();
        result.ValidLength.Should().Be(0);
    }

    [Fact]
    public void File_cut_inside_the_header_record_is_a_log_whose_first_write_was_torn()
    {
        var fs = NewFileSystem();
        var header = HeaderOnly();
        for (int cut = 1; cut < header.Length; cut++)
        {
            WriteFile(fs, LogPath, header.AsSpan(0, cut));
            var result = ReadLog(fs, LogPath);
            result.Records.Should().BeEmpty($"the file was cut at {cut}");
            result.TornTail.Should().BeTrue();
            result.ValidLength.Should().Be(0);
        }
    }

    [Fact]
    public void Wrong_magic_is_corruption_naming_the_file()
    {
        var fs = NewFileSystem();
        WriteFile(fs, LogPath, [.. Fragment(FragmentType.Full, HeaderPayload("LSMRSST1"u8, 1)), .. Fragment(FragmentType.Full, "a"u8)]);
        var act = () => ReadLog(fs, LogPath);
        var error = act.Should().Throw<CorruptionException>().Which;
        error.File.Should().Be(LogPath);
        error.Offset.Should().Be(0);
        error.Message.Should().Contain("magic");
    }

    [Fact]
    public void Unsupported_version_is_corruption_that_names_both_versions()
    {
        var fs = NewFileSystem();
        WriteFile(fs, LogPath, Fragment(FragmentType.Full, HeaderPayload(LogFormat.Magic, 2)));
        var act = () => ReadLog(fs, LogPath);
        act.Should().Throw<CorruptionException>().WithMessage("*version 2*version 1*");
    }

    [Fact]
    public void Log_whose_first_record_is_not_a_header_is_corruption()
    {
        var fs = NewFileSystem();
        WriteFile(fs, LogPath, [.. Fragment(FragmentType.Full, "hello"u8), .. Fragment(FragmentType.Full, "world"u8)]);
        var act = () => ReadLog(fs, LogPath);
        act.Should().Throw<CorruptionException>().Which.Offset.Should().Be(0);
    }

    [Fact]
    public void Header_split_into_several_fragments_is_corruption()
    {
        var payload = HeaderPayload(LogFormat.Magic, LogFormat.Version);
        var fs = NewFileSystem();
        WriteFile(fs, LogPath, [.. Fragment(FragmentType.First, payload.AsSpan(0, 6)), .. Fragment(FragmentType.Last, payload.AsSpan(6))]);
        var act = () => ReadLog(fs, LogPath);
        act.Should().Throw<CorruptionException>().Which.Offset.Should().Be(0);
    }

    [Fact]
    public void Damaged_header_followed_by_records_is_corruption()
    {
        var fs = NewFileSystem();
        WriteLog(fs, LogPath, [Payload(30, 1), Payload(30, 2)]);
        fs.FlipBit(LogPath, 9, 3);
        var act = () => ReadLog(fs, LogPath);
        act.Should().Throw<CorruptionException>().Which.Offset.Should().Be(0);
    }
}
