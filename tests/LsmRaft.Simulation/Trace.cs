namespace LsmRaft.Simulation;

/// <summary>
/// The event trace of one run: always folded into a 64-bit hash (the determinism check compares hashes), and
/// printed line by line when verbose.
/// </summary>
internal sealed class Trace(bool verbose, TextWriter? writer)
{
    private ulong hash = 0xCBF29CE484222325UL;

    public bool Verbose { get; } = verbose && writer is not null;

    public ulong Hash => hash;

    public void Record(long time, int kind, ulong a, ulong b = 0, ulong c = 0, ulong d = 0)
    {
        Mix((ulong)time);
        Mix((ulong)kind);
        Mix(a);
        Mix(b);
        Mix(c);
        Mix(d);
    }

    public void Line(long time, string text)
    {
        if (Verbose)
        {
            writer!.WriteLine($"{time / 1000,6}.{time % 1000:D3} {text}");
        }
    }

    private void Mix(ulong value)
    {
        hash ^= value;
        hash *= 0x100000001B3UL;
        hash ^= hash >> 29;
    }
}
