using LsmRaft.Storage.IO;
using LsmRaft.Storage.Wal;
using static LsmRaft.Storage.Tests.Wal.LogTestFiles;

namespace LsmRaft.Storage.Tests.Wal;

/// <summary>The tail rule: damage with no valid fragment after it is a torn last write; damage before valid data is corruption.</summary>
public sealed class LogTailTests
{
    private const string TornPath = "db/torn.log";

    /// <summary>A log of <paramref name="earlier"/> synced records, then <paramref name="last"/> appended.</summary>
    private static (byte[] Full, long SyncedLength) WriteWithUnsyncedLast(MemoryFileSystem fs, IReadOnlyList<byte[]> earlier, byte[] last)
    {
        long synced;
        using (var writer = new LogWriter(fs.Create(LogPath)))
        {
            foreach (var record in earlier)
                writer.AddRecord(record);
            writer.Sync();
            synced = writer.Length;
            writer.AddRecord(last);
            writer.Sync();
        }
        return (ReadAll(fs, LogPath), synced);
    }

    private static List<byte[]> SmallRecords(int count, int size, int seed) =>
        Enumerable.Range(0, count).Select(i => Payload(size, seed + i)).ToList();

    private static void AssertRecords(LogTestFiles.ReadResult result, IReadOnlyList<byte[]> expected, string because)
    {
        result.Records.Should().HaveCount(expected.Count, because);
        for (int i = 0; i < expected.Count; i++)
            result.Records[i].Should().Equal(expected[i], because);
    }

    public static TheoryData<int, int> LastRecordLayouts => new()
    {
        // (bytes of filler that place the last record, size of the last record)
        { 0, 100 },                          // one FULL fragment in the first block
        { LogFormat.BlockSize - 1500, 700 }, // FIRST at the end of block 0, LAST in block 1
        { 0, 2 * LogFormat.BlockSize + 50 }, // FIRST, MIDDLE, LAST (every offset would be slow: see the stride)
    };

    [Theory]
    [MemberData(nameof(LastRecordLayouts))]
    public void Torn_last_write_at_every_byte_offset_returns_every_earlier_record(int filler, int lastSize)
    {
        var fs = NewFileSystem();
        var earlier = SmallRecords(20, 50, 100);
        if (filler > 0)
            earlier.Add(Payload(filler, 99));
        var (full, synced) = WriteWithUnsyncedLast(fs, earlier, Payload(lastSize, 98));
        int stride = full.Length - synced > 4096 ? 61 : 1;

        for (long cut = synced; cut < full.Length; cut += stride)
        {
            WriteFile(fs, TornPath, full.AsSpan(0, (int)cut));
            var result = ReadLog(fs, TornPath);
            AssertRecords(result, earlier, $"the file was cut at {cut}");
            result.TornTail.Should().Be(cut > synced, $"the file was cut at {cut}");
            result.ValidLength.Should().Be(synced);
        }
    }

    [Theory]
    [MemberData(nameof(LastRecordLayouts))]
    public void Torn_last_write_with_its_final_byte_damaged_returns_every_earlier_record(int filler, int lastSize)
    {
        // MemoryFileSystem.Crash can corrupt the last surviving byte of a torn write.
        var fs = NewFileSystem();
        var earlier = SmallRecords(20, 50, 200);
        if (filler > 0)
            earlier.Add(Payload(filler, 199));
        var (full, synced) = WriteWithUnsyncedLast(fs, earlier, Payload(lastSize, 198));
        int stride = full.Length - synced > 4096 ? 61 : 1;

        for (long cut = synced + 1; cut <= full.Length; cut += stride)
        {
            var torn = full.AsSpan(0, (int)cut).ToArray();
            torn[^1] ^= 0x5A;
            WriteFile(fs, TornPath, torn);
            var result = ReadLog(fs, TornPath);
            AssertRecords(result, earlier, $"the file was cut at {cut} and its last byte damaged");
            result.TornTail.Should().BeTrue();
            result.ValidLength.Should().Be(synced);
        }
    }

    [Fact]
    public void Flipped_bit_anywhere_in_a_middle_record_is_corruption_naming_the_file()
    {
        // Valid data follows in later blocks, so every bit of the record's fragment is covered,
        // its length field included.
        var fs = NewFileSystem();
        var records = SmallRecords(5, 100, 300);
        records.Add(Payload(3 * LogFormat.BlockSize, 305));
        records.AddRange(SmallRecords(3, 100, 306));
        var original = WriteLog(fs, LogPath, records);
        long victim = LogFormat.HeaderSize + LogFormat.FileHeaderPayloadSize + 2 * (LogFormat.HeaderSize + 100);

        for (long offset = victim; offset < victim + LogFormat.HeaderSize + 100; offset++)
        {
            for (int bit = 0; bit < 8; bit++)
            {
                WriteFile(fs, TornPath, original);
                fs.FlipBit(TornPath, offset, bit);
                var act = () => ReadLog(fs, TornPath);
                var error = act.Should().Throw<CorruptionException>($"bit {bit} of byte {offset} was flipped").Which;
                error.File.Should().Be(TornPath);
                error.Offset.Should().Be(victim);
                error.Message.Should().Contain(TornPath);
            }
        }
    }

    [Fact]
    public void Flipped_bit_in_the_checksum_type_or_payload_of_a_middle_record_in_the_final_block_is_corruption()
    {
        var fs = NewFileSystem();
        var records = SmallRecords(10, 100, 400);
        var original = WriteLog(fs, LogPath, records);
        long victim = LogFormat.HeaderSize + LogFormat.FileHeaderPayloadSize + 5 * (LogFormat.HeaderSize + 100);

        for (long offset = victim; offset < victim + LogFormat.HeaderSize + 100; offset++)
        {
            if (offset == victim + 4 || offset == victim + 5)
                continue; // the length field: see the next test
            for (int bit = 0; bit < 8; bit++)
            {
                WriteFile(fs, TornPath, original);
                fs.FlipBit(TornPath, offset, bit);
                var act = () => ReadLog(fs, TornPath);
                act.Should().Throw<CorruptionException>($"bit {bit} of byte {offset} was flipped")
                    .Which.Offset.Should().Be(victim);
            }
        }
    }

    [Fact]
    public void Damaged_length_field_in_the_final_block_never_yields_a_garbage_record()
    {
        // A wrong length hides where the next fragment starts, so inside the final block this damage
        // can look like a torn write (documented in LogReader). It must still never produce garbage.
        var fs = NewFileSystem();
        var records = SmallRecords(10, 100, 500);
        var original = WriteLog(fs, LogPath, records);
        long victim = LogFormat.HeaderSize + LogFormat.FileHeaderPayloadSize + 5 * (LogFormat.HeaderSize + 100);

        for (long offset = victim + 4; offset <= victim + 5; offset++)
        {
            for (int bit = 0; bit < 8; bit++)
            {
                WriteFile(fs, TornPath, original);
                fs.FlipBit(TornPath, offset, bit);
                LogTestFiles.ReadResult result;
                try
                {
                    result = ReadLog(fs, TornPath);
                }
                catch (CorruptionException e)
                {
                    e.Offset.Should().Be(victim);
                    continue;
                }
                AssertRecords(result, records.Take(5).ToList(), $"bit {bit} of byte {offset} was flipped");
                result.TornTail.Should().BeTrue();
                result.ValidLength.Should().Be(victim);
            }
        }
    }

    [Fact]
    public void Flipped_bit_anywhere_in_a_single_fragment_last_record_is_a_torn_tail()
    {
        var fs = NewFileSystem();
        var earlier = SmallRecords(9, 100, 600);
        var (full, synced) = WriteWithUnsyncedLast(fs, earlier, Payload(100, 609));

        for (long offset = synced; offset < full.Length; offset++)
        {
            for (int bit = 0; bit < 8; bit++)
            {
                WriteFile(fs, TornPath, full);
                fs.FlipBit(TornPath, offset, bit);
                var result = ReadLog(fs, TornPath);
                AssertRecords(result, earlier, $"bit {bit} of byte {offset} was flipped");
                result.TornTail.Should().BeTrue();
                result.ValidLength.Should().Be(synced);
            }
        }
    }

    [Fact]
    public void Flipped_bit_in_the_first_fragment_of_a_last_record_whose_later_fragments_are_intact_is_corruption()
    {
        // A crash tears a write's end, never its beginning while keeping the end: this is media damage.
        var fs = NewFileSystem();
        var earlier = SmallRecords(3, 100, 700);
        var (full, synced) = WriteWithUnsyncedLast(fs, earlier, Payload(2 * LogFormat.BlockSize, 703));
        WriteFile(fs, TornPath, full);
        fs.FlipBit(TornPath, synced + LogFormat.HeaderSize + 10);

        var act = () => ReadLog(fs, TornPath);
        act.Should().Throw<CorruptionException>().Which.Offset.Should().Be(synced);
    }

    [Fact]
    public void Flipped_bit_in_the_last_fragment_of_a_multi_fragment_last_record_is_a_torn_tail()
    {
        var fs = NewFileSystem();
        var earlier = SmallRecords(3, 100, 800);
        var (full, synced) = WriteWithUnsyncedLast(fs, earlier, Payload(LogFormat.BlockSize + 500, 803));
        WriteFile(fs, TornPath, full);
        fs.FlipBit(TornPath, full.Length - 3);

        var result = ReadLog(fs, TornPath);
        AssertRecords(result, earlier, "only the last record's final fragment is damaged");
        result.TornTail.Should().BeTrue();
        result.ValidLength.Should().Be(synced);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(500)]
    [InlineData(3 * LogFormat.BlockSize)]
    public void Zero_filled_space_after_the_last_record_is_a_torn_tail(int zeros)
    {
        // File systems can extend a file with zeros whose data never reached the disk.
        var fs = NewFileSystem();
        var records = SmallRecords(4, 100, 900);
        var original = WriteLog(fs, LogPath, records);
        WriteFile(fs, TornPath, original.Concat(new byte[zeros]).ToArray());

        var result = ReadLog(fs, TornPath);
        AssertRecords(result, records, $"{zeros} zero bytes follow the last record");
        result.TornTail.Should().BeTrue();
        result.ValidLength.Should().Be(original.Length);
    }

    [Fact]
    public void Damaged_fragment_followed_by_a_valid_fragment_in_a_later_block_is_corruption_even_after_zeros()
    {
        var fs = NewFileSystem();
        var header = HeaderOnly();
        var bytes = new List<byte>(header);
        var bad = Fragment(FragmentType.Full, Payload(40, 1000));
        bad[^1] ^= 1;
        bytes.AddRange(bad);
        bytes.AddRange(new byte[LogFormat.BlockSize - bytes.Count]);
        long laterBlock = bytes.Count;
        bytes.AddRange(Fragment(FragmentType.Full, Payload(40, 1001)));
        WriteFile(fs, TornPath, bytes.ToArray());

        var act = () => ReadLog(fs, TornPath);
        act.Should().Throw<CorruptionException>().Which.Offset.Should().Be(header.Length);
        laterBlock.Should().Be(LogFormat.BlockSize);
    }

    [Fact]
    public void First_fragment_followed_by_a_full_record_is_corruption()
    {
        var fs = NewFileSystem();
        var header = HeaderOnly();
        WriteFile(fs, TornPath, [.. header, .. Fragment(FragmentType.First, "abc"u8), .. Fragment(FragmentType.Full, "x"u8)]);

        var act = () => ReadLog(fs, TornPath);
        act.Should().Throw<CorruptionException>().Which.Offset.Should().Be(header.Length);
    }

    [Theory]
    [InlineData((byte)FragmentType.Middle)]
    [InlineData((byte)FragmentType.Last)]
    public void Continuation_fragment_without_a_first_fragment_is_corruption(byte typeByte)
    {
        var type = (FragmentType)typeByte;
        var fs = NewFileSystem();
        var header = HeaderOnly();
        WriteFile(fs, TornPath, [.. header, .. Fragment(FragmentType.Full, "a"u8), .. Fragment(type, "bc"u8)]);

        var act = () => ReadLog(fs, TornPath);
        act.Should().Throw<CorruptionException>().Which.Offset.Should().Be(header.Length + LogFormat.HeaderSize + 1);
    }

    [Fact]
    public void Unknown_fragment_type_followed_by_valid_data_is_corruption()
    {
        var fs = NewFileSystem();
        var header = HeaderOnly();
        WriteFile(fs, TornPath, [.. header, .. Fragment((FragmentType)9, "abc"u8), .. Fragment(FragmentType.Full, "x"u8)]);

        var act = () => ReadLog(fs, TornPath);
        act.Should().Throw<CorruptionException>().Which.Offset.Should().Be(header.Length);
    }

    [Fact]
    public void Record_with_a_first_fragment_and_no_more_data_is_a_torn_tail()
    {
        var fs = NewFileSystem();
        var header = HeaderOnly();
        WriteFile(fs, TornPath, [.. header, .. Fragment(FragmentType.Full, "a"u8), .. Fragment(FragmentType.First, "bc"u8), .. Fragment(FragmentType.Middle, "d"u8)]);

        var result = ReadLog(fs, TornPath);
        result.Records.Should().ContainSingle().Which.Should().Equal("a"u8.ToArray());
        result.TornTail.Should().BeTrue();
        result.ValidLength.Should().Be(header.Length + LogFormat.HeaderSize + 1);
    }

    [Fact]
    public void Corruption_is_reported_again_on_every_later_call()
    {
        var fs = NewFileSystem();
        var header = HeaderOnly();
        WriteFile(fs, TornPath, [.. header, .. Fragment(FragmentType.Middle, "a"u8)]);

        using var reader = new LogReader(fs.OpenRead(TornPath), TornPath);
        var first = () => reader.TryReadRecord(out _);
        var again = () => reader.TryReadRecord(out _);
        first.Should().Throw<CorruptionException>();
        again.Should().Throw<CorruptionException>();
    }

    [Fact]
    public void Records_before_a_torn_tail_are_returned_before_the_reader_stops()
    {
        var fs = NewFileSystem();
        var header = HeaderOnly();
        WriteFile(fs, TornPath, [.. header, .. Fragment(FragmentType.Full, "a"u8), .. Fragment(FragmentType.Full, "bcdef"u8)[..9]]);

        using var reader = new LogReader(fs.OpenRead(TornPath), TornPath);
        reader.TryReadRecord(out var record).Should().BeTrue();
        record.ToArray().Should().Equal("a"u8.ToArray());
        reader.TornTail.Should().BeFalse("the reader has not reached the tail yet");
        reader.TryReadRecord(out _).Should().BeFalse();
        reader.TornTail.Should().BeTrue();
        reader.TryReadRecord(out _).Should().BeFalse();
    }
}
