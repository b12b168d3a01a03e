using LsmRaft.Shared;
using System.Text;
using LsmRaft.Storage.Format;

namespace LsmRaft.Storage.Tests;

public sealed class ChecksumTests
{
    [Fact]
    public void Crc32c_matches_the_published_check_value()
    {
        // RFC 3720 (iSCSI) / the CRC catalogue: CRC-32C("123456789") = 0xE3069283.
        Checksum.Compute(Encoding.ASCII.GetBytes("123456789")).Should().Be(0xE3069283u);
    }

    [Fact]
    public void Crc32c_of_32_zero_bytes_matches_rfc3720()
    {
        Checksum.Compute(new byte[32]).Should().Be(0x8A9136AAu);
    }

    [Fact]
    public void Extend_equals_checksum_of_concatenation()
    {
        var a = Encoding.ASCII.GetBytes("hello, ");
        var b = Encoding.ASCII.GetBytes("world and more bytes");
        Checksum.Extend(Checksum.Compute(a), b).Should().Be(Checksum.Compute(a.Concat(b).ToArray()));
    }

    [Fact]
    public void Mask_round_trips_and_changes_the_value()
    {
        uint crc = Checksum.Compute(Encoding.ASCII.GetBytes("foo"));
        Checksum.Mask(crc).Should().NotBe(crc);
        Checksum.Unmask(Checksum.Mask(crc)).Should().Be(crc);
    }
}
