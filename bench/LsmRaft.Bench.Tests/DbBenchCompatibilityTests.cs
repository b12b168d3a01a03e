using LsmRaft.Bench.Storage;

namespace LsmRaft.Bench.Tests;

/// <summary>
/// Golden values observed from RocksDB 7.8.3's db_bench (rocksdb-tools) and its ldb tool, so the
/// harness provably writes and reads the keys and values db_bench does.
/// </summary>
public sealed class DbBenchCompatibilityTests
{
    [Fact]
    public void Mt19937x64_produces_the_standard_ten_thousandth_value_for_the_default_seed()
    {
        var random = new Mt19937x64(5489);
        ulong value = 0;
        for (int i = 0; i < 10_000; i++)
            value = random.Next();
        value.Should().Be(9981545732273789042UL);
    }

    [Fact]
    public void Key_is_the_integer_big_endian_padded_with_ascii_zeros()
    {
        var key = new byte[16];
        DbBenchData.EncodeKey(0x0102, key);
        Convert.ToHexString(key).Should().Be("00000000000001023030303030303030");
    }

    [Fact]
    public void Key_shorter_than_eight_bytes_keeps_the_low_order_bytes()
    {
        var key = new byte[3];
        DbBenchData.EncodeKey(0x0A0B0C0D, key);
        Convert.ToHexString(key).Should().Be("0B0C0D");
    }

    [Fact]
    public void Fillrandom_with_seed_1_writes_the_keys_and_values_db_bench_writes()
    {
        // db_bench --benchmarks=fillrandom --num=20 --seed=1 --compression_type=none, then ldb scan --hex:
        // keys 0,3,5,6,7,8,9,15,19; key 0 holds a value starting 684755252A2125523F773A31.
        const ulong num = 20;
        var keys = new DbBenchKeySequence(threadSeed: 1 + 1, num);
        var values = new ValueCursor(DbBenchData.CompressibleValueData(100, 0.5));
        var written = new Dictionary<ulong, string>();
        for (ulong i = 0; i < num; i++)
            written[keys.NextWrite(sequential: false, i)] = Convert.ToHexString(values.Next(100));

        written.Keys.Order().Should().Equal(0UL, 3, 5, 6, 7, 8, 9, 15, 19);
        written[0].Should().StartWith("684755252A2125523F773A31");
    }

    [Fact]
    public void Read_and_seek_hit_counts_match_db_bench_after_fillrandom_and_overwrite()
    {
        // db_bench --benchmarks=fillseq,fillrandom,overwrite,readrandom,readseq,seekrandom --num=1000 --seed=7:
        // readrandom (885 of 1000 found), readseq 873 operations, seekrandom (878 of 1000 found).
        const ulong num = 1000, seedBase = 7;
        var present = new HashSet<ulong>();
        foreach (ulong threadSeed in new[] { seedBase + 2, seedBase + 3 })
        {
            var writes = new DbBenchKeySequence(threadSeed, num);
            for (ulong i = 0; i < num; i++)
                present.Add(writes.NextWrite(sequential: false, i));
        }
        var reads = new DbBenchKeySequence(seedBase + 4, num);
        var seeks = new DbBenchKeySequence(seedBase + 6, num);
        int readHits = 0, seekHits = 0;
        for (int i = 0; i < (int)num; i++)
        {
            if (present.Contains(reads.NextRead()))
                readHits++;
            if (present.Contains(seeks.NextSeek()))
                seekHits++;
        }

        present.Should().HaveCount(873);
        readHits.Should().Be(885);
        seekHits.Should().Be(878);
    }

    [Fact]
    public void Value_data_repeats_fifty_printable_random_characters_per_hundred_bytes()
    {
        var data = DbBenchData.CompressibleValueData(100, 0.5);
        data.Length.Should().BeGreaterThanOrEqualTo(1 << 20);
        data.AsSpan(0, 50).SequenceEqual(data.AsSpan(50, 50)).Should().BeTrue();
        data.Should().OnlyContain(b => b >= ' ' && b < ' ' + 95);
    }

    [Fact]
    public void Value_cursor_restarts_at_zero_when_the_next_slice_would_overrun()
    {
        var cursor = new ValueCursor(new byte[] { 1, 2, 3, 4, 5 });
        cursor.Next(2).ToArray().Should().Equal(1, 2);
        cursor.Next(2).ToArray().Should().Equal(3, 4);
        cursor.Next(2).ToArray().Should().Equal(1, 2);
    }
}
