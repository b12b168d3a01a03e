using Akka.Configuration;
using Akka.Streams.TestKit;
using Akka.TestKit;
using LsmRaft.Actors.Background;
using LsmRaft.Storage;
using LsmRaft.Storage.IO;
using Xunit.Abstractions;

namespace LsmRaft.Actors.Tests.Background;

/// <summary>
/// The node-wide flush and compaction pipelines, on Akka.TestKit with the virtual-time test scheduler: jobs are
/// gated by the test (no sleeps), waits are bounded polls (AwaitAssert), the rate limit is checked by advancing time.
/// </summary>
public sealed class BackgroundPipelinesTests : global::Akka.TestKit.Xunit2.TestKit
{
    private static readonly Config VirtualTime = ConfigurationFactory.ParseString(
        "akka.scheduler.implementation = \"Akka.TestKit.TestScheduler, Akka.TestKit\"");

    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    public BackgroundPipelinesTests(ITestOutputHelper output) : base(VirtualTime, nameof(BackgroundPipelinesTests), output)
    {
    }

    private TestScheduler Scheduler => (TestScheduler)Sys.Scheduler;

    [Fact]
    public async Task A_flush_runs_while_compactions_fill_every_slot_and_more_wait()
    {
        var pipelines = new BackgroundPipelines(Sys, new BackgroundSettings { CompactionParallelism = 1 });
        var compactions = Enumerable.Range(0, 3).Select(_ => new GatedCompactionJob(new Gate(1000))).ToList();
        foreach (var job in compactions)
            pipelines.Schedule(job);
        await compactions[0].Gate.Started.WaitAsync(Deadline);

        var flush = new GatedFlushJob(new Gate(500));
        pipelines.Schedule(flush);
        await flush.Gate.Started.WaitAsync(Deadline);
        flush.Gate.Open();
        await flush.Gate.Done.WaitAsync(Deadline);

        AwaitAssert(() =>
        {
            var state = pipelines.GetState();
            state.Flush.Completed.Should().Be(1);
            state.Flush.BytesWritten.Should().Be(500);
            state.Compaction.Running.Should().Be(1);
            state.Compaction.Queued.Should().Be(2);
        }, Deadline);
        compactions.Skip(1).Should().OnlyContain(j => !j.Gate.HasStarted, "one compaction slot is taken by the first");

        foreach (var job in compactions)
            job.Gate.Open();
        AwaitAssert(() => pipelines.GetState().Compaction.Completed.Should().Be(3), Deadline);
        await pipelines.DisposeAsync();
    }

    [Fact]
    public async Task Compactions_never_exceed_the_parallelism_setting()
    {
        var concurrency = new Concurrency();
        var pipelines = new BackgroundPipelines(Sys, new BackgroundSettings { CompactionParallelism = 2 });
        var jobs = Enumerable.Range(0, 6).Select(_ => new GatedCompactionJob(new Gate(10, concurrency))).ToList();
        foreach (var job in jobs)
            pipelines.Schedule(job);

        AwaitAssert(() =>
        {
            var state = pipelines.GetState().Compaction;
            state.Running.Should().Be(2);
            state.Queued.Should().Be(4);
        }, Deadline);
        // Open the jobs one at a time in the order they started; each time one ends another may start, never a third at once.
        for (int opened = 0; opened < jobs.Count; opened++)
        {
            // The pipeline counts a job as running just before the job's own code starts: wait for the code.
            AwaitCondition(() => jobs.Any(j => j.Gate.HasStarted && !j.Gate.Done.IsCompleted), Deadline);
            var next = jobs.First(j => j.Gate.HasStarted && !j.Gate.Done.IsCompleted);
            next.Gate.Open();
            await next.Gate.Done.WaitAsync(Deadline);
        }
        AwaitAssert(() => pipelines.GetState().Compaction.Completed.Should().Be(6), Deadline);
        concurrency.Max.Should().Be(2);
        await pipelines.DisposeAsync();
    }

    [Fact]
    public async Task The_rate_limit_holds_the_next_compaction_until_its_bytes_are_due()
    {
        // 1 MiB/s, burst of one second: the first 1 MiB job passes at once; the second (4 MiB) is due about four seconds
        // later. Akka's throttle measures the tokens in wall-clock time and waits for them on the (virtual) scheduler, and
        // its timer may be registered after the test has started to advance time: so time is advanced in steps until the
        // job runs, and the assertion is that virtual plus real time elapsed covers the four seconds the bytes cost.
        var pipelines = new BackgroundPipelines(Sys, new BackgroundSettings { CompactionParallelism = 4, CompactionBytesPerSecond = 1024 * 1024 });
        var first = new GatedCompactionJob(new Gate(1024 * 1024));
        var second = new GatedCompactionJob(new Gate(4 * 1024 * 1024));
        first.Gate.Open();
        second.Gate.Open();
        var real = System.Diagnostics.Stopwatch.StartNew();
        pipelines.Schedule(first);
        pipelines.Schedule(second);

        await first.Gate.Done.WaitAsync(Deadline);
        AwaitAssert(() => pipelines.GetState().Compaction.Should().Match<PipelineState>(s => s.Completed == 1 && s.Queued == 1 && s.Running == 0), Deadline);
        second.Gate.HasStarted.Should().BeFalse("the throttle holds it until its tokens are due; four slots are free");

        var step = TimeSpan.FromMilliseconds(250);
        var advanced = TimeSpan.Zero;
        AwaitCondition(() =>
        {
            if (second.Gate.HasStarted)
                return true;
            Scheduler.Advance(step);
            advanced += step;
            return false;
        }, Deadline, TimeSpan.FromMilliseconds(20));
        (advanced + real.Elapsed).Should().BeGreaterThanOrEqualTo(TimeSpan.FromSeconds(4), "4 MiB at 1 MiB/s are due four seconds after the bucket emptied");
        await second.Gate.Done.WaitAsync(Deadline);
        AwaitAssert(() => pipelines.GetState().Compaction.Completed.Should().Be(2), Deadline);
        await pipelines.DisposeAsync();
    }

    [Fact]
    public async Task A_failing_job_is_counted_and_the_pipeline_keeps_running()
    {
        var pipelines = new BackgroundPipelines(Sys, new BackgroundSettings { CompactionParallelism = 1 });
        var failing = new GatedCompactionJob(new Gate(100, fail: true));
        var next = new GatedCompactionJob(new Gate(200));
        failing.Gate.Open();
        next.Gate.Open();
        pipelines.Schedule(failing);
        pipelines.Schedule(next);

        await next.Gate.Done.WaitAsync(Deadline);
        AwaitAssert(() =>
        {
            var state = pipelines.GetState().Compaction;
            state.Failed.Should().Be(1);
            state.Completed.Should().Be(1);
            state.BytesWritten.Should().Be(200);
        }, Deadline);
        await pipelines.DisposeAsync();
    }

    [Fact]
    public async Task Stopping_the_pipelines_stops_every_stage()
    {
        var pipelines = new BackgroundPipelines(Sys, new BackgroundSettings { CompactionBytesPerSecond = 64 * 1024 * 1024 });
        await this.AssertAllStagesStoppedAsync(async () =>
        {
            var flush = new GatedFlushJob(new Gate(1));
            flush.Gate.Open();
            pipelines.Schedule(flush);
            await flush.Gate.Done.WaitAsync(Deadline);
            await pipelines.DisposeAsync();
        }, pipelines.Materializer);
    }

    [Fact]
    public async Task Engines_sharing_the_pipelines_flush_and_compact_under_writes_and_keep_every_key()
    {
        var fs = new MemoryFileSystem();
        var pipelines = new BackgroundPipelines(Sys, new BackgroundSettings { CompactionParallelism = 1 });
        var options = new LsmOptions
        {
            FileSystem = fs,
            Sync = SyncMode.None,
            FlushThresholdBytes = 64 * 1024,
            Level0CompactionTrigger = 2,
            BackgroundScheduler = pipelines,
        };
        var engines = new[] { LsmEngine.Open("/db/a", options), LsmEngine.Open("/db/b", options) };
        var value = new byte[512];
        const int Keys = 2000;
        // Keys in a scattered order (7919 is prime to 2000), so every flushed table overlaps the others and L0 must compact.
        for (int i = 0; i < Keys; i++)
            foreach (var engine in engines)
                engine.Put(Key(i * 7919 % Keys), value);
        foreach (var engine in engines)
            engine.Flush();

        AwaitAssert(() =>
        {
            var state = pipelines.GetState();
            state.Flush.Completed.Should().BeGreaterThan(0);
            state.Compaction.Completed.Should().BeGreaterThan(0);
            state.Compaction.Running.Should().Be(0);
            engines.Should().OnlyContain(e => e.GetStats().Compactions > 0);
        }, Deadline);
        foreach (var engine in engines)
        {
            for (int i = 0; i < Keys; i += 97)
                engine.Get(Key(i)).Should().NotBeNull();
            await engine.DisposeAsync();
        }
        await pipelines.DisposeAsync();
    }

    [Theory]
    [InlineData(0, null, "CompactionParallelism")]
    [InlineData(2, 100L, "CompactionBytesPerSecond")]
    public void Invalid_settings_are_refused_by_name(int parallelism, long? rate, string setting)
    {
        var settings = new BackgroundSettings { CompactionParallelism = parallelism, CompactionBytesPerSecond = rate };
        var act = () => new BackgroundPipelines(Sys, settings);
        act.Should().Throw<ArgumentException>().WithMessage($"*{setting}*");
    }

    private static byte[] Key(int i) => System.Text.Encoding.UTF8.GetBytes($"key-{i:D6}");
}
