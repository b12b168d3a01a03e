namespace LsmRaft.Bench.Storage;

/// <summary>
/// The 64-bit Mersenne Twister (<c>std::mt19937_64</c>), which RocksDB's <c>Random64</c> wraps.
/// db_bench draws every random key with <c>Random64::Next() % num</c>, so reproducing the generator
/// bit for bit makes this harness write, read and seek exactly the keys db_bench does for a seed.
/// </summary>
internal sealed class Mt19937x64
{
    private const int N = 312;
    private const int M = 156;
    private const ulong MatrixA = 0xB5026F5AA96619E9UL;
    private const ulong UpperMask = 0xFFFFFFFF80000000UL;
    private const ulong LowerMask = 0x7FFFFFFFUL;

    private readonly ulong[] _state = new ulong[N];

    // Invariant: 0 <= _index <= N; _index == N means the state must be regenerated before the next draw.
    private int _index;

    public Mt19937x64(ulong seed)
    {
        _state[0] = seed;
        for (int i = 1; i < N; i++)
            _state[i] = 6364136223846793005UL * (_state[i - 1] ^ (_state[i - 1] >> 62)) + (ulong)i;
        _index = N;
    }

    public ulong Next()
    {
        if (_index >= N)
            Twist();
        ulong x = _state[_index++];
        x ^= (x >> 29) & 0x5555555555555555UL;
        x ^= (x << 17) & 0x71D67FFFEDA60000UL;
        x ^= (x << 37) & 0xFFF7EEE000000000UL;
        x ^= x >> 43;
        return x;
    }

    private void Twist()
    {
        var mt = _state;
        for (int i = 0; i < N; i++)
        {
            ulong x = (mt[i] & UpperMask) | (mt[(i + 1) % N] & LowerMask);
            ulong xA = x >> 1;
            if ((x & 1) != 0)
                xA ^= MatrixA;
            mt[i] = mt[(i + M) % N] ^ xA;
        }
        _index = 0;
    }
}
