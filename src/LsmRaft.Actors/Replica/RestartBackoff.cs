namespace LsmRaft.Actors.Replica;

/// <summary>
/// An actor's restart history under its <see cref="RestartPolicy"/>: when it may start again after a failure
/// (exponentially later from <see cref="RestartPolicy.MinBackoff"/> to <see cref="RestartPolicy.MaxBackoff"/> with
/// each restart inside <see cref="RestartPolicy.Window"/>), and when it must stay stopped (more than
/// <see cref="RestartPolicy.MaxRestarts"/> restarts within the window). Pure: the caller passes the clock's time.
/// Not thread-safe: one actor's incarnations use it one after the other.
/// </summary>
internal sealed class RestartBackoff(RestartPolicy policy)
{
    private readonly Queue<DateTimeOffset> _restarts = new();

    public RestartPolicy Policy { get; } = policy;

    /// <summary>Restarts counted in the window as of the last <see cref="TryRestart"/>.</summary>
    public int RecentRestarts => _restarts.Count;

    /// <summary>Records a restart at <paramref name="now"/>; false when it would exceed the policy's restarts within its window.</summary>
    public bool TryRestart(DateTimeOffset now, out TimeSpan delay)
    {
        while (_restarts.TryPeek(out var oldest) && now - oldest > Policy.Window)
            _restarts.Dequeue();
        if (_restarts.Count >= Policy.MaxRestarts)
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
        double ticks = Policy.MinBackoff.Ticks * Math.Pow(2, Math.Min(attempt - 1, 62));
        return ticks >= Policy.MaxBackoff.Ticks ? Policy.MaxBackoff : TimeSpan.FromTicks((long)ticks);
    }
}
