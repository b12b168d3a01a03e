using LsmRaft.Storage.Background;
using LsmRaft.Storage.Compaction;

namespace LsmRaft.Storage;

// The seam between the engine and whoever runs its background work: the engine requests a flush when a memtable
// becomes immutable and a compaction after each flush, at open and while writers stall; an IBackgroundScheduler
// runs the jobs. One job per kind is queued or running at a time (JobSlot); closing waits for running jobs (JobGate).
public sealed partial class LsmEngine
{
    private readonly JobSlot _flushSlot = new();
    private readonly JobSlot _compactionSlot = new();
    private readonly JobGate _jobs = new();
    private IBackgroundScheduler _scheduler = null!; // set by StartBackgroundWork, before any request
    private EngineScheduler? _ownScheduler;

    private void StartBackgroundWork()
    {
        if (_options.BackgroundScheduler is { } shared)
            _scheduler = shared;
        else
            _scheduler = _ownScheduler = new EngineScheduler(_options.CompactionLimiter ?? CompactionLimiter.ProcessWide);
        RequestCompaction();
    }

    /// <summary>Asks the scheduler for a flush unless one is already queued. May be called under _stateLock.</summary>
    private void RequestFlush()
    {
        if (_flushSlot.Request())
            _scheduler.Schedule(new EngineFlushJob(this));
    }

    /// <summary>Asks the scheduler for a compaction unless one is already queued. May be called under _stateLock.</summary>
    private void RequestCompaction()
    {
        if (_compactionSlot.Request())
            _scheduler.Schedule(new EngineCompactionJob(this));
    }

    /// <summary>Refuses further jobs, waits for the running ones, and stops the engine's own scheduler if it has one.</summary>
    private async Task StopBackgroundWorkAsync()
    {
        await _jobs.CloseAsync().ConfigureAwait(false);
        if (_ownScheduler is not null)
            await _ownScheduler.DisposeAsync().ConfigureAwait(false);
    }

    private long PendingFlushBytes()
    {
        lock (_stateLock)
            return _immutables.Sum(m => m.ApproximateBytes);
    }

    private long PendingCompactionBytes()
    {
        lock (_versionLock)
        {
            var plan = CompactionPicker.Pick(_versions.Current, _options, _versions.CompactPointers, new HashSet<ulong>());
            return plan is null || plan.IsTrivialMove ? 0 : plan.AllInputs.Sum(f => f.Size);
        }
    }

    private long RunCompactionJob(CancellationToken token)
    {
        if (Volatile.Read(ref _backgroundError) is not null)
            return 0;
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(_closing.Token, token);
        long? written;
        try
        {
            _compactionMutex.Wait(linked.Token); // held by a manual CompactRange meanwhile
        }
        catch (OperationCanceledException)
        {
            return 0;
        }
        try
        {
            written = RunOneCompaction(null, linked.Token);
        }
        catch (OperationCanceledException)
        {
            return 0;
        }
        catch (Exception)
        {
            return 0; // RunOneCompaction recorded it as the background error
        }
        finally
        {
            _compactionMutex.Release();
        }
        if (written is not null)
            RequestCompaction(); // the picker may find more; queued behind other engines' work
        return written ?? 0;
    }

    /// <summary>Runs <paramref name="body"/> as a job of <paramref name="slot"/>: nothing once the engine closes, a new job if a request came meanwhile.</summary>
    private Task<long> RunJob(JobSlot slot, Func<long> body, Action reschedule)
    {
        if (!_jobs.TryEnter())
            return Task.FromResult(0L);
        long written = 0;
        try
        {
            slot.Start();
            written = body();
        }
        finally
        {
            if (slot.Finish())
                reschedule();
            _jobs.Exit();
        }
        return Task.FromResult(written);
    }

    private sealed class EngineFlushJob(LsmEngine engine) : FlushJob(engine._directory)
    {
        public override long EstimateBytes() => engine.PendingFlushBytes();

        public override Task<long> RunAsync(CancellationToken cancellationToken) =>
            engine.RunJob(engine._flushSlot, engine.FlushImmutables, () => engine._scheduler.Schedule(new EngineFlushJob(engine)));
    }

    private sealed class EngineCompactionJob(LsmEngine engine) : CompactionJob(engine._directory)
    {
        public override long EstimateBytes() => engine.PendingCompactionBytes();

        public override Task<long> RunAsync(CancellationToken cancellationToken) =>
            engine.RunJob(engine._compactionSlot, () => engine.RunCompactionJob(cancellationToken), () => engine._scheduler.Schedule(new EngineCompactionJob(engine)));
    }
}
