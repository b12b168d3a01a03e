namespace LsmRaft.Storage.Background;

/// <summary>
/// Counts an engine's running background jobs so that closing waits for them and no job starts after it.
/// Invariant: once closed, <see cref="TryEnter"/> fails, and <see cref="CloseAsync"/> completes when the count reaches 0.
/// </summary>
internal sealed class JobGate
{
    private readonly object _lock = new();
    private readonly TaskCompletionSource _idle = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _running;
    private bool _closed;

    public bool TryEnter()
    {
        lock (_lock)
        {
            if (_closed)
                return false;
            _running++;
            return true;
        }
    }

    public void Exit()
    {
        lock (_lock)
        {
            if (--_running == 0 && _closed)
                _idle.TrySetResult();
        }
    }

    /// <summary>Refuses new jobs; the task completes when the running ones have exited.</summary>
    public Task CloseAsync()
    {
        lock (_lock)
        {
            _closed = true;
            if (_running == 0)
                _idle.TrySetResult();
        }
        return _idle.Task;
    }
}
