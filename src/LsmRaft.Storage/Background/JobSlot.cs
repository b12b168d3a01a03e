namespace LsmRaft.Storage.Background;

/// <summary>
/// At most one job of a kind per engine, and no lost request: a request while the job is queued folds into it;
/// a request while it runs makes it run once more when it finishes. Lock-free (requests come under engine locks).
/// </summary>
internal sealed class JobSlot
{
    private const int Idle = 0, Queued = 1, Running = 2, RunningRequested = 3;
    private int _state;

    /// <summary>Notes a request. True when the caller must hand a new job to the scheduler.</summary>
    public bool Request()
    {
        while (true)
        {
            int state = Volatile.Read(ref _state);
            int next = state switch { Idle => Queued, Running => RunningRequested, _ => state };
            if (next == state)
                return false;
            if (Interlocked.CompareExchange(ref _state, next, state) == state)
                return state == Idle;
        }
    }

    /// <summary>The queued job starts running.</summary>
    public void Start() => Interlocked.CompareExchange(ref _state, Running, Queued);

    /// <summary>The running job ended. True when a request came meanwhile and the caller must schedule a new job.</summary>
    public bool Finish()
    {
        while (true)
        {
            int state = Volatile.Read(ref _state);
            int next = state == RunningRequested ? Queued : Idle;
            if (Interlocked.CompareExchange(ref _state, next, state) == state)
                return next == Queued;
        }
    }
}
