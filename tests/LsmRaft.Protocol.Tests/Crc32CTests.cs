using System.Buffers;
using LsmRaft.Protocol.Framing;

namespace LsmRaft.Protocol.Tests;

public sealed class Crc32CTests
{
    [Fact]
    public void Crc_of_the_standard_check_input_is_the_castagnoli_check_value()
    {
        Crc32C.Compute("123456789"u8).Should().Be(0xE3069283u);
        Crc32C.Compute(ReadOnlySpan<byte>.Empty).Should().Be(0u);
    }

    [Fact]
    public void Extend_continues_a_crc_across_any_split()
    {
        var random = new Random(1234);
        var data = new byte[77];
        random.NextBytes(data);
        uint whole = Crc32C.Compute(data);
        for (int cut = 0; cut <= data.Length; cut++)
            Crc32C.Extend(Crc32C.Compute(data.AsSpan(0, cut)), data.AsSpan(cut)).Should().Be(whole);
    }

    [Fact]
    public void Crc_over_a_multi_segment_sequence_equals_crc_over_its_bytes()
    {
        var random = new Random(99);
        var data = new byte[53];
        random.NextBytes(data);

        Crc32C.Compute(SequenceBuilder.OneBytePerSegment(data)).Should().Be(Crc32C.Compute(data));
        Crc32C.Compute(SequenceBuilder.Split(data, 3, 20, 21)).Should().Be(Crc32C.Compute(data));
        Crc32C.Compute(new ReadOnlySequence<byte>(data)).Should().Be(Crc32C.Compute(data));
    }

    [Fact]
    public void Mask_is_reversible_and_changes_the_value()
    {
        foreach (uint crc in new uint[] { 0, 1, 0xE3069283u, 0xFFFFFFFFu, 0x80000000u })
        {
            Crc32C.Unmask(Crc32C.Mask(crc)).Should().Be(crc);
            Crc32C.Mask(crc).Should().NotBe(crc);
        }
    }
}
