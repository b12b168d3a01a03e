namespace LsmRaft.Actors.Replica;

/// <summary>
/// A bound on work in flight: entering past <see cref="Limit"/> is refused at once (the caller sheds the request)
/// instead of queueing. Used by the node's HTTP admission control and by each replica. Thread-safe.
/// </summary>
internal sealed class InFlightLimit
{
    private int _inFlight;

    public InFlightLimit(int limit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        Limit = limit;
    }

    public int Limit { get; }

    /// <summary>Entered and not yet exited.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Enters when fewer than <see cref="Limit"/> are in flight; a true result must be paired with <see cref="Exit"/>.</summary>
    public bool TryEnter()
    {
        if (Interlocked.Increment(ref _inFlight) <= Limit)
            return true;
        Interlocked.Decrement(ref _inFlight);
        return false;
    }

    public void Exit() => Interlocked.Decrement(ref _inFlight);
}
