namespace LsmRaft.Actors.Background;

/// <summary>
/// Counts of one pipeline, updated by the stream's stages and read by the admin API. Bytes per second are the
/// bytes of jobs completed in the last <see cref="Window"/>, over that window (time from the injected clock).
/// </summary>
internal sealed class PipelineCounters(TimeProvider time)
{
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(10);

    private readonly object _lock = new();
    private readonly Queue<(long Timestamp, long Bytes)> _recent = new();
    private int _queued;
    private int _running;
    private long _completed;
    private long _failed;
    private long _bytes;

    public void Queued() => Interlocked.Increment(ref _queued);

    public void Started()
    {
        Interlocked.Decrement(ref _queued);
        Interlocked.Increment(ref _running);
    }

    public void Finished(long bytes, bool failed)
    {
        lock (_lock)
        {
            Interlocked.Decrement(ref _running);
            if (failed)
                _failed++;
            else
                _completed++;
            _bytes += bytes;
            _recent.Enqueue((time.GetTimestamp(), bytes));
            Trim();
        }
    }

    public PipelineState Snapshot()
    {
        lock (_lock)
        {
            Trim();
            long recent = _recent.Sum(r => r.Bytes);
            return new PipelineState(Volatile.Read(ref _queued), Volatile.Read(ref _running), _completed, _failed, _bytes, recent / Window.TotalSeconds);
        }
    }

    private void Trim()
    {
        long now = time.GetTimestamp();
        while (_recent.Count > 0 && time.GetElapsedTime(_recent.Peek().Timestamp, now) > Window)
            _recent.Dequeue();
    }
}
