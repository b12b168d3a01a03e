using System.Threading.Channels;

namespace LsmRaft.Storage.Background;

/// <summary>
/// The built-in scheduler an engine uses when <see cref="LsmOptions.BackgroundScheduler"/> is null: its own flush
/// thread (flushes never wait behind a compaction) and its own compaction loop, whose merges take a slot of the
/// <see cref="CompactionLimiter"/> shared by the engines of the process. Owned and disposed by its engine.
/// </summary>
internal sealed class EngineScheduler : IBackgroundScheduler, IAsyncDisposable
{
    // Unbounded, yet holding at most one job each: the engine's JobSlots fold further requests into the queued job.
    private readonly Channel<FlushJob> _flushes = Channel.CreateUnbounded<FlushJob>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Channel<CompactionJob> _compactions = Channel.CreateUnbounded<CompactionJob>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CompactionLimiter _limiter;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _flushLoop;
    private readonly Task _compactionLoop;

    public EngineScheduler(CompactionLimiter limiter)
    {
        _limiter = limiter;
        // Flushes are synchronous I/O on a thread of their own, as the engine has always run them.
        _flushLoop = Task.Factory.StartNew(FlushLoop, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        _compactionLoop = Task.Run(CompactionLoopAsync);
    }

    public void Schedule(FlushJob job) => _flushes.Writer.TryWrite(job);

    public void Schedule(CompactionJob job) => _compactions.Writer.TryWrite(job);

    private void FlushLoop()
    {
        var reader = _flushes.Reader;
        while (reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
            while (reader.TryRead(out var job))
                job.RunAsync(_stopping.Token).GetAwaiter().GetResult();
    }

    private async Task CompactionLoopAsync()
    {
        var token = _stopping.Token;
        try
        {
            await foreach (var job in _compactions.Reader.ReadAllAsync(token).ConfigureAwait(false))
            {
                await _limiter.AcquireAsync(token).ConfigureAwait(false);
                try
                {
                    await job.RunAsync(token).ConfigureAwait(false);
                }
                finally
                {
                    _limiter.Release();
                }
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
    }

    /// <summary>Stops both loops; the engine has closed its job gate first, so queued jobs would do nothing.</summary>
    public async ValueTask DisposeAsync()
    {
        _flushes.Writer.TryComplete();
        _compactions.Writer.TryComplete();
        _stopping.Cancel();
        await Task.WhenAll(_flushLoop, _compactionLoop).ConfigureAwait(false);
        _stopping.Dispose();
    }
}
