namespace LsmRaft.Storage;

/// <summary>
/// A consistent point-in-time view for repeatable reads. Compaction keeps every version a live
/// snapshot can see. Dispose it to let those versions go.
/// </summary>
public sealed class Snapshot : IDisposable
{
    private readonly Action<Snapshot> _release;
    private int _released;

    internal Snapshot(ulong sequence, Action<Snapshot> release)
    {
        Sequence = sequence;
        _release = release;
    }

    internal ulong Sequence { get; }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0)
            _release(this);
    }
}
