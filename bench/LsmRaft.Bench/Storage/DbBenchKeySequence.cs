namespace LsmRaft.Bench.Storage;

/// <summary>
/// The integers db_bench turns into keys, drawn from one thread's <see cref="Mt19937x64"/> exactly as
/// db_bench 7.x consumes its <c>Random64</c>: DoWrite and ReadRandom first draw a number to pick one
/// of <c>--num_multi_db</c> databases (discarded here, there is one), then the key; SeekRandom draws
/// only the key. Keeping the discarded draws keeps every later key identical to db_bench's.
/// </summary>
internal sealed class DbBenchKeySequence
{
    private readonly Mt19937x64 _random;
    private readonly ulong _num;

    public DbBenchKeySequence(ulong threadSeed, ulong num)
    {
        _random = new Mt19937x64(threadSeed);
        _num = num;
    }

    /// <summary>The key of write number <paramref name="index"/> (from 0): the index itself for fillseq, random for fillrandom and overwrite.</summary>
    public ulong NextWrite(bool sequential, ulong index)
    {
        _random.Next();
        return sequential ? index : _random.Next() % _num;
    }

    public ulong NextRead()
    {
        _random.Next();
        return _random.Next() % _num;
    }

    public ulong NextSeek() => _random.Next() % _num;
}
