using System.Threading.Channels;
using Akka.Actor;
using Akka.Streams;
using Akka.Streams.Dsl;
using LsmRaft.Storage;
using Akka.Event;

namespace LsmRaft.Actors.Background;

/// <summary>
/// The node-wide background work of every engine on the node, as two Akka.Streams graphs fed by channels
/// (an <see cref="IBackgroundScheduler"/> for <see cref="LsmOptions.BackgroundScheduler"/>):
/// <code>
/// flushes:     channel → SelectAsyncUnordered(flush parallelism) → ignore
/// compactions: channel → [Throttle(KiB/s, cost = job's input KiB)] → SelectAsyncUnordered(compaction parallelism) → ignore
/// </code>
/// Two graphs, not one with priorities, because a flush must never wait behind a compaction: writers stall on
/// unflushed memtables. One engine never has two jobs of a kind at once (the engine's job slots), so neither graph
/// needs to group by engine and each channel holds at most one job per engine. A job that fails is counted and
/// logged here; the engine has recorded it as its background error. No stage can fail, so the graphs run until
/// <see cref="DisposeAsync"/> completes the channels.
/// </summary>
public sealed class BackgroundPipelines : IBackgroundScheduler, IAsyncDisposable
{
    private const int KiB = 1024;

    private readonly Channel<FlushJob> _flushes = Channel.CreateUnbounded<FlushJob>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Channel<CompactionJob> _compactions = Channel.CreateUnbounded<CompactionJob>(new UnboundedChannelOptions { SingleReader = true });
    private readonly PipelineCounters _flushCounters;
    private readonly PipelineCounters _compactionCounters;
    private readonly BackgroundSettings _settings;
    private readonly ILoggingAdapter _log;
    private readonly Task _flushDone;
    private readonly Task _compactionDone;

    public BackgroundPipelines(ActorSystem system, BackgroundSettings settings, TimeProvider? time = null)
    {
        settings.Validate();
        _settings = settings;
        _log = Logging.GetLogger(system, "lsmraft.background");
        time ??= TimeProvider.System;
        _flushCounters = new PipelineCounters(time);
        _compactionCounters = new PipelineCounters(time);
        Materializer = system.Materializer(namePrefix: "lsmraft-background");

        _flushDone = ChannelSource.FromReader(_flushes.Reader)
            .SelectAsyncUnordered(settings.FlushParallelism, job => RunAsync(job, _flushCounters))
            .Named("flushes")
            .RunWith(Sink.Ignore<long>(), Materializer);

        var compactions = ChannelSource.FromReader(_compactions.Reader);
        if (settings.CompactionBytesPerSecond is { } rate)
        {
            int kibPerSecond = (int)(rate / KiB);
            compactions = compactions.Throttle(kibPerSecond, TimeSpan.FromSeconds(1), kibPerSecond, CostInKiB, ThrottleMode.Shaping);
        }
        _compactionDone = compactions
            .SelectAsyncUnordered(settings.CompactionParallelism, job => RunAsync(job, _compactionCounters))
            .Named("compactions")
            .RunWith(Sink.Ignore<long>(), Materializer);
    }

    /// <summary>The materializer both graphs run on (tests check that every stage stops).</summary>
    internal IMaterializer Materializer { get; }

    public void Schedule(FlushJob job)
    {
        _flushCounters.Queued();
        if (!_flushes.Writer.TryWrite(job))
            _flushCounters.Started(); // closed: the node is stopping and the engine's gate refuses the job anyway
    }

    public void Schedule(CompactionJob job)
    {
        _compactionCounters.Queued();
        if (!_compactions.Writer.TryWrite(job))
            _compactionCounters.Started();
    }

    public BackgroundState GetState() =>
        new(_flushCounters.Snapshot(), _compactionCounters.Snapshot(), _settings.CompactionParallelism, _settings.CompactionBytesPerSecond);

    /// <summary>Stops taking jobs and waits until both graphs have run what they hold. Stop the engines first.</summary>
    public async ValueTask DisposeAsync()
    {
        _flushes.Writer.TryComplete();
        _compactions.Writer.TryComplete();
        await Task.WhenAll(_flushDone, _compactionDone).ConfigureAwait(false);
    }

    /// <summary>The job's estimated input in KiB, at least 1 so that even moves pass the rate limit in order.</summary>
    private static int CostInKiB(CompactionJob job) => (int)Math.Clamp(job.EstimateBytes() / KiB, 1, int.MaxValue);

    private async Task<long> RunAsync(BackgroundJob job, PipelineCounters counters)
    {
        counters.Started();
        long written = 0;
        bool failed = false;
        try
        {
            // Off the stream's thread: a flush or a merge is blocking file I/O.
            written = await Task.Run(() => job.RunAsync(CancellationToken.None)).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            failed = true;
            _log.Error(e, "Background job of {0} failed", job.Engine);
        }
        finally
        {
            counters.Finished(written, failed);
        }
        return written;
    }
}
