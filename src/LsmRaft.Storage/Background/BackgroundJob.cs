namespace LsmRaft.Storage;

/// <summary>
/// A unit of an engine's background work, handed to an <see cref="IBackgroundScheduler"/>. An engine has at most
/// one job of each kind queued or running at a time (later requests fold into it), so a scheduler's queue holds at
/// most two jobs per engine. A job never throws for engine failures: it records them as the engine's background
/// error (writes then fail with it) and completes; a job whose engine has closed completes at once, doing nothing.
/// </summary>
public abstract class BackgroundJob
{
    private protected BackgroundJob(string engine) => Engine = engine;

    /// <summary>The directory of the engine the job belongs to (a name for logs and pipeline state).</summary>
    public string Engine { get; }

    /// <summary>
    /// Bytes the job is expected to read or write if run now: the immutable memtables for a flush, the picked
    /// compaction's input tables for a compaction (0 for a move that rewrites nothing). Cheap; for rate limits.
    /// </summary>
    public abstract long EstimateBytes();

    /// <summary>Runs the job to completion on the caller's thread; returns the bytes of the tables it wrote.</summary>
    public abstract Task<long> RunAsync(CancellationToken cancellationToken);
}

/// <summary>Writes an engine's immutable memtables to level-0 tables. Writers stall while these wait: run them first.</summary>
public abstract class FlushJob : BackgroundJob
{
    protected FlushJob(string engine) : base(engine)
    {
    }
}

/// <summary>Runs one compaction of an engine (the one its picker chooses when the job runs); re-requests itself while there is more.</summary>
public abstract class CompactionJob : BackgroundJob
{
    protected CompactionJob(string engine) : base(engine)
    {
    }
}
