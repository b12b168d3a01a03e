using LsmRaft.Shared;
using LsmRaft.Storage.Format;
using LsmRaft.Storage.Table;

namespace LsmRaft.Storage.Tests.Table;

public sealed class TableCorruptionTests : IDisposable
{
    private const string Name = "000042.sst";
    private readonly TableFixture _fixture = new();
    private readonly List<TestEntry> _entries = TableFixture.GenerateEntries(seed: 31, userKeys: 300, maxVersions: 2, maxValueLength: 40);

    public TableCorruptionTests()
    {
        _fixture.Build(Name, _entries);
    }

    public void Dispose() => _fixture.Dispose();

    private (Footer Footer, long Size) Layout()
    {
        var bytes = _fixture.ReadAllBytes(Name);
        long footerOffset = bytes.Length - Footer.Size;
        return (Footer.Decode(bytes.AsSpan((int)footerOffset), Name, footerOffset), bytes.Length);
    }

    [Fact]
    public void Every_bit_flip_in_the_footer_is_reported_with_the_file_name()
    {
        long footerOffset = Layout().Size - Footer.Size;
        for (long offset = footerOffset; offset < footerOffset + Footer.Size; offset++)
            for (int bit = 0; bit < 8; bit++)
                AssertFlipIsDetected(offset, bit);
    }

    [Fact]
    public void Every_bit_flip_in_the_index_block_and_its_trailer_is_reported()
    {
        var index = Layout().Footer.Index;
        for (long offset = index.Offset; offset < index.Offset + index.Size + TableFormat.BlockTrailerSize; offset++)
            AssertFlipIsDetected(offset, (int)(offset % 8));
    }

    [Fact]
    public void Every_bit_flip_in_the_filter_block_and_its_trailer_is_reported()
    {
        var filter = Layout().Footer.Filter;
        for (long offset = filter.Offset; offset < filter.Offset + filter.Size + TableFormat.BlockTrailerSize; offset++)
            AssertFlipIsDetected(offset, (int)(offset % 8));
    }

    [Fact]
    public void Bit_flips_in_data_blocks_are_reported_and_never_return_wrong_data()
    {
        long dataEnd = Layout().Footer.Filter.Offset;
        for (long offset = 0; offset < dataEnd; offset += 7)
            AssertFlipIsDetected(offset, (int)(offset % 8));
    }

    [Fact]
    public void Truncated_or_foreign_files_are_rejected_with_the_file_name()
    {
        var bytes = _fixture.ReadAllBytes(Name);
        foreach (int length in new[] { 0, 1, Footer.Size - 1, Footer.Size, bytes.Length - 1, bytes.Length / 2 })
        {
            _fixture.WriteAllBytes("short.sst", bytes[..length]);
            var act = () => _fixture.Open("short.sst");
            act.Should().Throw<CorruptionException>().Which.File.Should().Be("short.sst");
        }
        _fixture.WriteAllBytes("foreign.sst", Enumerable.Range(0, 500).Select(i => (byte)i).ToArray());
        var open = () => _fixture.Open("foreign.sst");
        open.Should().Throw<CorruptionException>().WithMessage("*magic*").Which.File.Should().Be("foreign.sst");
    }

    [Fact]
    public void A_footer_with_another_format_version_is_rejected_even_with_a_valid_checksum()
    {
        var bytes = _fixture.ReadAllBytes(Name);
        var footer = bytes.AsSpan(bytes.Length - Footer.Size);
        Coding.WriteFixed32(footer[40..], 2);
        Coding.WriteFixed32(footer[52..], Checksum.Mask(Checksum.Compute(footer[..52])));
        _fixture.WriteAllBytes("v2.sst", bytes);

        var act = () => _fixture.Open("v2.sst");
        act.Should().Throw<CorruptionException>().WithMessage("*version 2*").Which.File.Should().Be("v2.sst");
    }

    [Fact]
    public void Malformed_data_blocks_with_valid_checksums_raise_only_corruption_errors()
    {
        var original = _fixture.ReadAllBytes(Name);
        long dataEnd = Layout().Footer.Filter.Offset;
        // Mutate the first data block and recompute its checksum, so only the format checks stand guard.
        var (blockOffset, blockSize) = FirstDataBlock(original);
        var random = new Random(1234);
        for (int trial = 0; trial < 300; trial++)
        {
            var bytes = (byte[])original.Clone();
            int mutations = random.Next(1, 4);
            for (int m = 0; m < mutations; m++)
                bytes[blockOffset + random.Next(blockSize)] = (byte)random.Next(256);
            TableFormat.WriteBlockTrailer(bytes.AsSpan(blockOffset, blockSize), bytes.AsSpan(blockOffset + blockSize, TableFormat.BlockTrailerSize));
            string name = $"fuzz{trial}.sst";
            _fixture.WriteAllBytes(name, bytes);
            dataEnd.Should().BeGreaterThan(blockOffset);

            var act = () => ExerciseEverything(name);
            try
            {
                act();
            }
            catch (CorruptionException e)
            {
                e.File.Should().Be(name, "trial {0}", trial);
            }
        }
    }

    private (int Offset, int Size) FirstDataBlock(byte[] bytes)
    {
        var reader = _fixture.Open(Name);
        var index = default(BlockCursor);
        index.Init(reader.IndexBlock);
        index.SeekToFirst();
        var handle = reader.DecodeHandle(index.Value);
        index.ReleaseBuffer();
        bytes.Length.Should().BeGreaterThan((int)(handle.Offset + handle.Size));
        return ((int)handle.Offset, (int)handle.Size);
    }

    /// <summary>Opens the table and reads it every way; returns normally only if every answer was right.</summary>
    private void AssertFlipIsDetected(long offset, int bit)
    {
        string name = $"flip-{offset}-{bit}.sst";
        var bytes = _fixture.ReadAllBytes(Name);
        _fixture.WriteAllBytes(name, bytes);
        _fixture.FileSystem.FlipBit(TableFixture.PathOf(name), offset, bit);

        var act = () => ExerciseAndCompare(name);
        act.Should().Throw<CorruptionException>($"flipping bit {bit} at offset {offset} must be detected")
            .Which.File.Should().Be(name);
        _fixture.FileSystem.Delete(TableFixture.PathOf(name));
    }

    /// <summary>Reads everything and fails the test on any wrong answer (which a checksum must prevent).</summary>
    private void ExerciseAndCompare(string name)
    {
        using var reader = TableReader.Open(_fixture.FileSystem.OpenRead(TableFixture.PathOf(name)), name, new Cache.BlockCache(1 << 20), new LsmRaft.Storage.Versions.EngineCounters());
        foreach (var entry in _entries)
        {
            if (reader.TryGet(entry.UserKey, InternalKey.Sequence(entry.Key), out var kind, out var value))
            {
                kind.Should().Be(InternalKey.Kind(entry.Key));
                if (kind == EntryKind.Value)
                    value.Should().Equal(entry.Value);
            }
            else
            {
                throw new Xunit.Sdk.XunitException($"{name}: entry missing without a corruption error");
            }
        }
        using var iterator = reader.NewIterator();
        TableFixture.ReadForward(iterator).Should().BeEquivalentTo(_entries.Select(e => (e.Key, e.Value)), o => o.WithStrictOrdering());
    }

    private void ExerciseEverything(string name)
    {
        using var reader = TableReader.Open(_fixture.FileSystem.OpenRead(TableFixture.PathOf(name)), name, new Cache.BlockCache(1 << 20), new LsmRaft.Storage.Versions.EngineCounters());
        foreach (var entry in _entries)
            reader.TryGet(entry.UserKey, ulong.MaxValue, out _, out _);
        using var iterator = reader.NewIterator();
        TableFixture.ReadForward(iterator);
        TableFixture.ReadBackward(iterator);
        foreach (var entry in _entries)
            iterator.Seek(entry.Key);
        reader.ApproximateOffsetOf(_entries[^1].Key);
    }
}
