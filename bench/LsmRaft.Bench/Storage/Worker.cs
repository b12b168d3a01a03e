using LsmRaft.Storage;

namespace LsmRaft.Bench.Storage;

/// <summary>
/// One benchmark thread. Each loop mirrors db_bench's function of the same name, and its keys come
/// from <see cref="DbBenchKeySequence"/>, so with the same seed it touches the same keys as db_bench.
/// The loops allocate nothing themselves: key buffers are reused and values are slices of shared data.
/// </summary>
internal sealed class Worker
{
    private readonly LsmEngine _engine;
    private readonly ThreadStats _stats;
    private readonly DbBenchKeySequence _keys;
    private readonly byte[] _valueData;
    private readonly byte[] _key;
    private readonly ulong _num;
    private readonly long _reads;
    private readonly int _valueSize;
    private readonly int _seekNexts;

    public Worker(LsmEngine engine, StorageSettings settings, ThreadStats stats, ulong threadSeed, byte[] valueData)
    {
        _engine = engine;
        _stats = stats;
        _keys = new DbBenchKeySequence(threadSeed, (ulong)settings.Num);
        _valueData = valueData;
        _key = new byte[settings.KeySize];
        DbBenchData.EncodeKey(0, _key);
        _num = (ulong)settings.Num;
        _reads = settings.Reads;
        _valueSize = settings.ValueSize;
        _seekNexts = settings.SeekNexts;
    }

    public void Run(BenchmarkKind kind)
    {
        switch (kind)
        {
            case BenchmarkKind.FillSeq:
                DoWrite(sequential: true);
                break;
            case BenchmarkKind.FillRandom:
            case BenchmarkKind.Overwrite:
                DoWrite(sequential: false);
                break;
            case BenchmarkKind.ReadRandom:
                ReadRandom();
                break;
            case BenchmarkKind.ReadSeq:
                ReadSequential();
                break;
            case BenchmarkKind.SeekRandom:
                SeekRandom();
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, "no such benchmark");
        }
    }

    /// <summary>db_bench's DoWrite with batch size 1: <c>--num</c> puts per thread; sequential keys count up from 0 in every thread.</summary>
    private void DoWrite(bool sequential)
    {
        var engine = _engine;
        var stats = _stats;
        var keys = _keys;
        var key = _key;
        var values = new ValueCursor(_valueData);
        ulong num = _num;
        int valueSize = _valueSize;
        long bytes = 0;
        for (ulong i = 0; i < num; i++)
        {
            DbBenchData.EncodeKeyPrefix(keys.NextWrite(sequential, i), key);
            engine.Put(key, values.Next(valueSize));
            bytes += valueSize + key.Length;
            stats.FinishedOp();
        }
        stats.Bytes = bytes;
    }

    /// <summary>db_bench's ReadRandom: uniformly random keys of [0, num), some never written; counts hits and their bytes.</summary>
    private void ReadRandom()
    {
        var engine = _engine;
        var stats = _stats;
        var keys = _keys;
        var key = _key;
        long reads = _reads, found = 0, bytes = 0;
        for (long i = 0; i < reads; i++)
        {
            DbBenchData.EncodeKeyPrefix(keys.NextRead(), key);
            var value = engine.Get(key);
            if (value is not null)
            {
                found++;
                bytes += key.Length + value.Length;
            }
            stats.FinishedOp();
        }
        stats.Bytes = bytes;
        stats.Message = $"({found} of {reads} found)\n";
    }

    /// <summary>db_bench's ReadSequential: one iterator from the first key, at most <c>--reads</c> entries.</summary>
    private void ReadSequential()
    {
        var stats = _stats;
        long reads = _reads, i = 0, bytes = 0;
        using var iterator = _engine.NewIterator();
        for (iterator.SeekToFirst(); i < reads && iterator.Valid; iterator.Next())
        {
            bytes += iterator.Key.Length + iterator.Value.Length;
            stats.FinishedOp();
            i++;
        }
        stats.Bytes = bytes;
    }

    /// <summary>
    /// db_bench's SeekRandom: a new iterator per operation (db_bench's default, non-tailing), Seek to a
    /// random key, count an exact hit, then <c>--seek_nexts</c> Next calls copying up to 256 value bytes.
    /// </summary>
    private void SeekRandom()
    {
        var engine = _engine;
        var stats = _stats;
        var keys = _keys;
        var key = _key;
        int seekNexts = _seekNexts;
        Span<byte> valueBuffer = stackalloc byte[256];
        long reads = _reads, found = 0, bytes = 0;
        for (long i = 0; i < reads; i++)
        {
            DbBenchData.EncodeKeyPrefix(keys.NextSeek(), key);
            var iterator = engine.NewIterator();
            try
            {
                iterator.Seek(key);
                if (iterator.Valid && iterator.Key.SequenceEqual(key))
                    found++;
                for (int j = 0; j < seekNexts && iterator.Valid; j++)
                {
                    var value = iterator.Value;
                    value[..Math.Min(value.Length, valueBuffer.Length)].CopyTo(valueBuffer);
                    bytes += iterator.Key.Length + value.Length;
                    iterator.Next();
                }
                // db_bench's iterator dies at the end of the loop body, after the operation is counted.
                stats.FinishedOp();
            }
            finally
            {
                iterator.Dispose();
            }
        }
        stats.Bytes = bytes;
        stats.Message = $"({found} of {reads} found)\n";
    }
}
