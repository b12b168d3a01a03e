namespace LsmRaft.Actors.Replica;

/// <summary>
/// When an actor that failed may start again: exponentially later from <see cref="MinBackoff"/> to
/// <see cref="MaxBackoff"/> with each restart inside <see cref="Window"/>; more than <see cref="MaxRestarts"/>
/// restarts within the window and it stays stopped. Pure: the caller passes the clock's time.
/// Not thread-safe: one actor's incarnations use it one after the other.
/// </summary>
internal sealed class RestartBackoff
{
    private readonly Queue<DateTimeOffset> _restarts = new();

    public int MaxRestarts { get; init; } = 10;

    public TimeSpan Window { get; init; } = TimeSpan.FromMinutes(1);

    public TimeSpan MinBackoff { get; init; } = TimeSpan.FromMilliseconds(10);

    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Restarts counted in the window as of the last <see cref="TryRestart"/>.</summary>
    public int RecentRestarts => _restarts.Count;

    /// <summary>Records a restart at <paramref name="now"/>; false when it would exceed <see cref="MaxRestarts"/> within <see cref="Window"/>.</summary>
    public bool TryRestart(DateTimeOffset now, out TimeSpan delay)
    {
        while (_restarts.TryPeek(out var oldest) && now - oldest > Window)
            _restarts.Dequeue();
        if (_restarts.Count >= MaxRestarts)
        {
            delay = TimeSpan.Zero;
            return false;
        }
        _restarts.Enqueue(now);
        delay = Backoff(_restarts.Count);
        return true;
    }

    /// <summary>Delay before the <paramref name="attempt"/>-th restart within the window (1-based): min·2^(attempt-1), capped at max.</summary>
    public TimeSpan Backoff(int attempt)
    {
        double ticks = MinBackoff.Ticks * Math.Pow(2, Math.Min(attempt - 1, 62));
        return ticks >= MaxBackoff.Ticks ? MaxBackoff : TimeSpan.FromTicks((long)ticks);
    }
}
