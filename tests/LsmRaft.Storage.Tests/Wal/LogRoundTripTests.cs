using LsmRaft.Storage.IO;
using LsmRaft.Storage.Wal;
using static LsmRaft.Storage.Tests.Wal.LogTestFiles;

namespace LsmRaft.Storage.Tests.Wal;

public sealed class LogRoundTripTests
{
    private const int FileHeaderRecordSize = LogFormat.HeaderSize + LogFormat.FileHeaderPayloadSize;

    private static void AssertRoundTrip(params byte[][] records)
    {
        var fs = NewFileSystem();
        var bytes = WriteLog(fs, LogPath, records);
        var result = ReadLog(fs, LogPath);
        result.Records.Should().HaveCount(records.Length);
        for (int i = 0; i < records.Length; i++)
            result.Records[i].Should().Equal(records[i], $"record {i} must come back unchanged");
        result.TornTail.Should().BeFalse();
        result.ValidLength.Should().Be(bytes.Length);
    }

    [Fact]
    public void Empty_record_round_trips()
    {
        AssertRoundTrip([]);
    }

    [Fact]
    public void Small_records_round_trip()
    {
        AssertRoundTrip("a"u8.ToArray(), "hello, log"u8.ToArray(), Payload(200, 1));
    }

    [Fact]
    public void Record_that_exactly_fills_the_rest_of_the_first_block_round_trips()
    {
        var fits = Payload(LogFormat.BlockSize - FileHeaderRecordSize - LogFormat.HeaderSize, 2);
        var fs = NewFileSystem();
        var bytes = WriteLog(fs, LogPath, [fits, Payload(10, 3)]);
        bytes.Length.Should().Be(LogFormat.BlockSize + LogFormat.HeaderSize + 10, "the first record is one FULL fragment ending at the block boundary");
        AssertRoundTrip(fits, Payload(10, 3));
    }

    [Fact]
    public void Record_of_exactly_one_block_size_round_trips()
    {
        AssertRoundTrip(Payload(LogFormat.BlockSize, 4), Payload(LogFormat.BlockSize, 5));
    }

    [Fact]
    public void Record_spanning_several_blocks_round_trips()
    {
        AssertRoundTrip(Payload(5 * LogFormat.BlockSize + 123, 6), Payload(17, 7));
    }

    [Fact]
    public void One_mebibyte_record_round_trips()
    {
        AssertRoundTrip(Payload(1 << 20, 8));
    }

    [Theory]
    [InlineData(11)]
    [InlineData(12)]
    [InlineData(13)]
    public void Many_records_of_mixed_sizes_round_trip(int seed)
    {
        var random = new Random(seed);
        var records = new byte[500][];
        for (int i = 0; i < records.Length; i++)
        {
            int size = random.Next(10) switch
            {
                0 => 0,
                < 7 => random.Next(1, 200),
                < 9 => random.Next(200, 5000),
                _ => random.Next(5000, 3 * LogFormat.BlockSize),
            };
            records[i] = Payload(size, random.Next());
        }
        AssertRoundTrip(records);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(6)]
    public void Block_tail_too_short_for_a_header_is_zero_filled_and_skipped(int tail)
    {
        // Fill block 0 so exactly `tail` bytes remain, then add another record.
        var filler = Payload(LogFormat.BlockSize - FileHeaderRecordSize - LogFormat.HeaderSize - tail, 20);
        var next = Payload(300, 21);
        var fs = NewFileSystem();
        var bytes = WriteLog(fs, LogPath, [filler, next]);

        bytes.AsSpan(LogFormat.BlockSize - tail, tail).IndexOfAnyExcept((byte)0).Should().Be(-1, "the block tail is zero-filled");
        bytes[LogFormat.BlockSize + 6].Should().Be((byte)FragmentType.Full, "the next record starts at the block boundary");
        bytes.Length.Should().Be(LogFormat.BlockSize + LogFormat.HeaderSize + next.Length);
        AssertRoundTrip(filler, next);
    }

    [Fact]
    public void Block_tail_of_exactly_a_header_holds_an_empty_first_fragment()
    {
        var filler = Payload(LogFormat.BlockSize - FileHeaderRecordSize - 2 * LogFormat.HeaderSize, 22);
        var next = Payload(300, 23);
        var fs = NewFileSystem();
        var bytes = WriteLog(fs, LogPath, [filler, next]);

        int firstHeader = LogFormat.BlockSize - LogFormat.HeaderSize;
        bytes[firstHeader + 4].Should().Be(0);
        bytes[firstHeader + 5].Should().Be(0);
        bytes[firstHeader + 6].Should().Be((byte)FragmentType.First);
        bytes[LogFormat.BlockSize + 6].Should().Be((byte)FragmentType.Last);
        AssertRoundTrip(filler, next);
    }

    [Fact]
    public void File_ending_inside_block_padding_is_a_clean_end()
    {
        // The writer pads the block tail only when the next record starts; a crash can keep the
        // padding and lose the record. Padding is not a record, so nothing is torn.
        var filler = Payload(LogFormat.BlockSize - FileHeaderRecordSize - LogFormat.HeaderSize - 5, 24);
        var fs = NewFileSystem();
        var bytes = WriteLog(fs, LogPath, [filler, Payload(50, 25)]);
        WriteFile(fs, LogPath, bytes.AsSpan(0, LogFormat.BlockSize - 2));

        var result = ReadLog(fs, LogPath);
        result.Records.Should().ContainSingle().Which.Should().Equal(filler);
        result.TornTail.Should().BeFalse();
        result.ValidLength.Should().Be(LogFormat.BlockSize - 5);
    }

    [Fact]
    public void Writer_length_counts_header_padding_and_fragments()
    {
        var fs = NewFileSystem();
        using var writer = new LogWriter(fs.Create(LogPath));
        writer.Length.Should().Be(FileHeaderRecordSize);
        writer.AddRecord(Payload(100, 26));
        writer.Length.Should().Be(FileHeaderRecordSize + LogFormat.HeaderSize + 100);
        writer.AddRecord(Payload(LogFormat.BlockSize, 27));
        writer.Flush();
        writer.Length.Should().Be(fs.GetLength(LogPath));
    }

    [Fact]
    public void Writer_refuses_a_file_that_is_not_empty()
    {
        var fs = NewFileSystem();
        var file = fs.Create(LogPath);
        file.Append("x"u8);
        var act = () => new LogWriter(file);
        act.Should().Throw<ArgumentException>();
    }

    [Fact]
    public void Add_record_does_not_allocate_for_small_records()
    {
        var fs = NewFileSystem();
        using var writer = new LogWriter(fs.Create(LogPath));
        // Grow the in-memory file's backing array first so that the measurement sees only the writer.
        writer.AddRecord(new byte[1 << 20]);
        var payload = Payload(100, 28);
        writer.AddRecord(payload);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
            writer.AddRecord(payload);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        allocated.Should().Be(0);
    }

    [Fact]
    public void Records_round_trip_through_the_physical_file_system()
    {
        string directory = Path.Combine(Path.GetTempPath(), "lsmraft-wal-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        try
        {
            string path = Path.Combine(directory, "000001.log");
            var records = new[] { Payload(10, 30), Payload(3 * LogFormat.BlockSize, 31), Array.Empty<byte>() };
            using (var writer = new LogWriter(PhysicalFileSystem.Instance.Create(path)))
            {
                foreach (var record in records)
                    writer.AddRecord(record);
                writer.Sync();
            }
            var result = ReadLog(PhysicalFileSystem.Instance, path);
            result.Records.Should().HaveCount(3);
            for (int i = 0; i < records.Length; i++)
                result.Records[i].Should().Equal(records[i]);
            result.TornTail.Should().BeFalse();
            result.ValidLength.Should().Be(new FileInfo(path).Length);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
