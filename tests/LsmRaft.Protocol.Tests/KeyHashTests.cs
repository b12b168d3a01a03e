using System.Globalization;
using System.Text;
using LsmRaft.Protocol.Hashing;

namespace LsmRaft.Protocol.Tests;

public sealed class KeyHashTests
{
    // Published XXH64 answers (seed 0); each also confirmed against the reference libxxhash 0.8.1.
    [Theory]
    [InlineData("", 0xEF46DB3751D8E999UL)]
    [InlineData("a", 0xD24EC4F1A98C6E5BUL)]
    [InlineData("abc", 0x44BC2CF5AD770999UL)]
    [InlineData("Nobody inspects the spammish repetition", 0xFBCEA83C8A378BF1UL)]
    [InlineData("The quick brown fox jumps over the lazy dog", 0x0B242D361FDA71BCUL)]
    public void Hash_matches_published_xxh64_answers(string key, ulong expected)
    {
        KeyHash.Hash(Encoding.ASCII.GetBytes(key)).Should().Be(expected);
    }

    [Fact]
    public void Hash_of_inputs_longer_than_several_stripes_matches_reference()
    {
        // 128 bytes = exactly four 32-byte stripes, no tail; 129 bytes = four stripes and a one-byte tail.
        var counting = Enumerable.Range(0, 128).Select(i => (byte)i).ToArray();
        KeyHash.Hash(counting).Should().Be(0x7A7FE14647B9AB92UL);

        var fox = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("The quick brown fox jumps over the lazy dog", 3)));
        fox.Should().HaveCount(129);
        KeyHash.Hash(fox).Should().Be(0xC652B4DBFCD6B853UL);
    }

    [Fact]
    public void XxHash64_with_nonzero_seeds_matches_reference()
    {
        KeyHash.XxHash64("abc"u8, 1).Should().Be(0xBEA9CA8199328908UL);
        KeyHash.XxHash64(ReadOnlySpan<byte>.Empty, 0x9E3779B185EBCA8DUL).Should().Be(0x0B303D920EC349DFUL);
        var counting = Enumerable.Range(0, 128).Select(i => (byte)i).ToArray();
        KeyHash.XxHash64(counting, ulong.MaxValue).Should().Be(0x348F2B41ED158C9EUL);
    }

    [Fact]
    public void Hash_matches_every_vector_in_the_checked_in_file()
    {
        var vectors = ReadVectors();
        vectors.Should().HaveCountGreaterThan(100, "the vector file must exercise every tail length and the stripe loop");
        vectors.Should().Contain(v => v.Key.Length >= 100);
        foreach (var (key, expected) in vectors)
            KeyHash.Hash(key).Should().Be(expected, "key {0}", Convert.ToHexString(key));
    }

    [Fact]
    public void Hash_does_not_depend_on_the_alignment_of_the_key_in_memory()
    {
        var random = new Random(20240601);
        var buffer = new byte[300];
        random.NextBytes(buffer);
        for (int offset = 0; offset < 8; offset++)
        {
            for (int length = 0; length <= 200; length += 13)
            {
                var slice = buffer.AsSpan(offset, length);
                KeyHash.Hash(slice).Should().Be(KeyHash.Hash(slice.ToArray()));
            }
        }
    }

    private static List<(byte[] Key, ulong Hash)> ReadVectors()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "testdata", "keyhash-vectors.txt");
        var vectors = new List<(byte[], ulong)>();
        foreach (var line in File.ReadLines(path))
        {
            if (line.Length == 0 || line.StartsWith('#'))
                continue;
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            parts.Should().HaveCount(2, "line '{0}' must be '<key hex> <hash hex>'", line);
            var key = parts[0] == "-" ? [] : Convert.FromHexString(parts[0]);
            vectors.Add((key, ulong.Parse(parts[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture)));
        }

        return vectors;
    }
}
