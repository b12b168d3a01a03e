using System.Diagnostics;
using System.Numerics;

namespace LsmRaft.Bench.Metrics;

/// <summary>
/// A log-linear latency histogram over nanoseconds. Values below 128 ns get a bucket each; above,
/// every power of two [2^e, 2^(e+1)) is split into 128 equal buckets, so a bucket is at most 1/128
/// (0.78 %) of its lower bound wide and a percentile reported at a bucket's midpoint is within 0.4 %
/// of the true value. Recording is an index computation and an increment: one histogram per thread,
/// merged after the run, so threads never share a cache line while measuring.
/// </summary>
internal sealed class LatencyHistogram
{
    private const int SubBucketBits = 7;
    private const int SubBuckets = 1 << SubBucketBits;

    // Exponents 7..63 each take SubBuckets buckets after the SubBuckets linear ones.
    private const int BucketCount = SubBuckets + (64 - SubBucketBits) * SubBuckets;

    private static readonly double NanosPerTick = 1e9 / Stopwatch.Frequency;

    private readonly long[] _counts = new long[BucketCount];
    private long _min = long.MaxValue;
    private long _max;
    private double _sum;
    private double _sumOfSquares;

    public long Count { get; private set; }

    /// <summary>Records a duration measured in <see cref="Stopwatch"/> ticks.</summary>
    public void RecordTicks(long ticks) => RecordNanos(NanosPerTick == 1.0 ? ticks : (long)(ticks * NanosPerTick));

    public void RecordNanos(long nanos)
    {
        if (nanos < 0)
            nanos = 0;
        _counts[IndexOf(nanos)]++;
        Count++;
        if (nanos < _min)
            _min = nanos;
        if (nanos > _max)
            _max = nanos;
        _sum += nanos;
        _sumOfSquares += (double)nanos * nanos;
    }

    public void Merge(LatencyHistogram other)
    {
        for (int i = 0; i < BucketCount; i++)
            _counts[i] += other._counts[i];
        Count += other.Count;
        _min = Math.Min(_min, other._min);
        _max = Math.Max(_max, other._max);
        _sum += other._sum;
        _sumOfSquares += other._sumOfSquares;
    }

    public double MinNanos => Count == 0 ? 0 : _min;

    public double MaxNanos => _max;

    public double MeanNanos => Count == 0 ? 0 : _sum / Count;

    public double StdDevNanos
    {
        get
        {
            if (Count == 0)
                return 0;
            double mean = _sum / Count;
            return Math.Sqrt(Math.Max(0, _sumOfSquares / Count - mean * mean));
        }
    }

    /// <summary>
    /// The value at percentile <paramref name="p"/> (0 &lt; p ≤ 100): the midpoint of the bucket
    /// holding the ceil(p% · count)-th smallest sample, clamped to the observed min and max.
    /// </summary>
    public double PercentileNanos(double p)
    {
        if (Count == 0)
            return 0;
        long rank = Math.Max(1, (long)Math.Ceiling(p / 100.0 * Count));
        long seen = 0;
        for (int i = 0; i < BucketCount; i++)
        {
            seen += _counts[i];
            if (seen >= rank)
            {
                (long lower, long width) = BucketBounds(i);
                double mid = lower + (width - 1) / 2.0;
                return Math.Clamp(mid, _min, _max);
            }
        }
        return _max;
    }

    internal static int IndexOf(long nanos)
    {
        if (nanos < SubBuckets)
            return (int)nanos;
        int exponent = 63 - BitOperations.LeadingZeroCount((ulong)nanos);
        int shift = exponent - SubBucketBits;
        return (exponent - SubBucketBits + 1) * SubBuckets + (int)((nanos >> shift) - SubBuckets);
    }

    /// <summary>The smallest value of bucket <paramref name="index"/> and how many values it spans.</summary>
    internal static (long Lower, long Width) BucketBounds(int index)
    {
        if (index < SubBuckets)
            return (index, 1);
        int exponent = index / SubBuckets + SubBucketBits - 1;
        int shift = exponent - SubBucketBits;
        long mantissa = index % SubBuckets + SubBuckets;
        return (mantissa << shift, 1L << shift);
    }
}
