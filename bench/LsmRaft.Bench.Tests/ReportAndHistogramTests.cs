using LsmRaft.Bench.Cli;
using LsmRaft.Bench.Metrics;
using LsmRaft.Bench.Storage;

namespace LsmRaft.Bench.Tests;

public sealed class ReportAndHistogramTests
{
    [Fact]
    public void Report_line_uses_db_bench_column_widths()
    {
        var report = BenchmarkReport.Create("fillrandom", "write", done: 1_000_000, bytes: 116_000_000,
            threadSeconds: 2.345, elapsedSeconds: 2.345, message: "", new LatencyHistogram());
        report.FormatDbBenchLine().Should().Be(
            "fillrandom   :       2.345 micros/op 426439 ops/sec 2.345 seconds 1000000 operations;   47.2 MB/s");
    }

    [Fact]
    public void Report_line_without_bytes_carries_only_the_message()
    {
        var report = BenchmarkReport.Create("seekrandom", "seek", done: 10, bytes: 0,
            threadSeconds: 0.001, elapsedSeconds: 0.001, message: "(8 of 10 found)\n", new LatencyHistogram());
        report.FormatDbBenchLine().Should().Be(
            "seekrandom   :     100.000 micros/op 10000 ops/sec 0.001 seconds 10 operations; (8 of 10 found)\n");
    }

    [Fact]
    public void Every_value_falls_in_its_bucket_and_buckets_are_under_one_percent_wide()
    {
        var random = new Random(12345);
        for (int i = 0; i < 100_000; i++)
        {
            long value = (long)(Math.Exp(random.NextDouble() * 40)) - 1;
            var (lower, width) = LatencyHistogram.BucketBounds(LatencyHistogram.IndexOf(value));
            value.Should().BeInRange(lower, lower + width - 1);
            if (lower >= 128)
                ((double)width / lower).Should().BeLessThan(0.01);
        }
    }

    [Fact]
    public void Percentiles_of_a_uniform_sample_are_within_one_percent()
    {
        var histogram = new LatencyHistogram();
        for (long v = 1; v <= 100_000; v++)
            histogram.RecordNanos(v);
        histogram.PercentileNanos(50).Should().BeApproximately(50_000, 500);
        histogram.PercentileNanos(99).Should().BeApproximately(99_000, 990);
        histogram.PercentileNanos(99.9).Should().BeApproximately(99_900, 999);
    }

    [Fact]
    public void Merged_histograms_equal_one_histogram_of_all_samples()
    {
        var a = new LatencyHistogram();
        var b = new LatencyHistogram();
        var all = new LatencyHistogram();
        for (long v = 1; v <= 10_000; v++)
        {
            (v % 3 == 0 ? a : b).RecordNanos(v * 7);
            all.RecordNanos(v * 7);
        }
        a.Merge(b);
        a.Count.Should().Be(all.Count);
        a.PercentileNanos(99).Should().Be(all.PercentileNanos(99));
        a.MeanNanos.Should().BeApproximately(all.MeanNanos, 1e-6);
    }

    [Fact]
    public void Unknown_flag_is_rejected_by_name()
    {
        var flags = new Flags(["--num=5", "--nmu=6"]);
        var act = () => StorageSettings.Parse(flags);
        act.Should().Throw<FlagException>().Which.Flag.Should().Be("nmu");
    }

    [Fact]
    public void Malformed_and_out_of_range_values_name_their_flag()
    {
        ((Action)(() => StorageSettings.Parse(new Flags(["--threads=many"])))).Should().Throw<FlagException>().Which.Flag.Should().Be("threads");
        ((Action)(() => StorageSettings.Parse(new Flags(["--write_buffer_size=0"])))).Should().Throw<FlagException>().Which.Flag.Should().Be("write_buffer_size");
        ((Action)(() => StorageSettings.Parse(new Flags(["--bloom_bits=10", "--bloom_fpp=0.01"])))).Should().Throw<FlagException>().Which.Flag.Should().Be("bloom_fpp");
    }

    [Fact]
    public void Defaults_are_the_small_readme_workload()
    {
        var settings = StorageSettings.Parse(new Flags([]));
        settings.Num.Should().Be(200_000);
        settings.Reads.Should().Be(200_000);
        settings.Db.Should().Be("./data/bench");
        settings.Benchmarks.Should().HaveCount(6);
    }

    [Fact]
    public void Bloom_bits_map_to_the_false_positive_rate_of_an_optimal_filter()
    {
        var settings = StorageSettings.Parse(new Flags(["--bloom_bits=10"]));
        settings.BloomFpp.Should().BeApproximately(0.00819, 0.00001);
    }
}
