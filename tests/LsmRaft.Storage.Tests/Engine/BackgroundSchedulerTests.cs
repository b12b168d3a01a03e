namespace LsmRaft.Storage.Tests.Engine;

/// <summary>
/// The seam between the engine and a shared scheduler: the engine queues at most one job per kind, a job does all
/// the work pending when it runs, work requested while a job runs gets a new job, and a closed engine's job does nothing.
/// </summary>
public sealed class BackgroundSchedulerTests : EngineTestBase
{
    /// <summary>Holds jobs until the test runs them, on the test's thread.</summary>
    private sealed class ManualScheduler : IBackgroundScheduler
    {
        public List<FlushJob> Flushes { get; } = new();
        public List<CompactionJob> Compactions { get; } = new();

        public void Schedule(FlushJob job)
        {
            lock (Flushes) Flushes.Add(job);
        }

        public void Schedule(CompactionJob job)
        {
            lock (Compactions) Compactions.Add(job);
        }

        public T Take<T>(List<T> jobs)
        {
            lock (jobs)
            {
                jobs.Should().ContainSingle();
                var job = jobs[0];
                jobs.Clear();
                return job;
            }
        }
    }

    private LsmOptions ManualOptions(ManualScheduler scheduler) => SmallOptions() with { BackgroundScheduler = scheduler, MaxImmutableMemtables = 4 };

    [Fact]
    public async Task Closing_without_a_WAL_flushes_on_the_closing_thread_even_when_the_scheduler_runs_nothing()
    {
        // A node stopping thousands of engines at once must not need the scheduler (and its threads) to close them:
        // the queued jobs are never run here, and the close still writes every acknowledged write to a table.
        var scheduler = new ManualScheduler();
        var options = ManualOptions(scheduler) with { EnableWal = false };
        var engine = LsmEngine.Open(Dir, options);
        var value = new byte[1024];
        for (int i = 0; i < 100; i++) // about 1.5 memtables: one immutable waiting for its flush job, one active
            engine.Put(B($"k{i:D4}"), value);
        engine.GetStats().ImmutableMemtables.Should().Be(1);

        await Task.Run(() => engine.DisposeAsync().AsTask()).WaitAsync(TimeSpan.FromSeconds(30)); // bounded, even if the close blocks

        var queued = scheduler.Flushes.ToList();
        queued.Should().NotBeEmpty("the engine asked for a flush that nobody ran");
        foreach (var job in queued)
            (await job.RunAsync(CancellationToken.None)).Should().Be(0, "a closed engine's job does nothing");
        await using var reopened = LsmEngine.Open(Dir, SmallOptions() with { EnableWal = false });
        for (int i = 0; i < 100; i++)
            S(reopened.Get(B($"k{i:D4}"))).Should().Be(S(value), $"k{i:D4} was written before the close");
    }

    [Fact]
    public async Task Two_full_memtables_give_one_flush_job_which_flushes_both()
    {
        var scheduler = new ManualScheduler();
        await using var engine = LsmEngine.Open(Dir, ManualOptions(scheduler));
        await scheduler.Take(scheduler.Compactions).RunAsync(CancellationToken.None); // the check at open: nothing to do
        var value = new byte[1024];
        for (int i = 0; i < 150; i++) // about 2.3 memtables of 64 KiB
            engine.Put(B($"k{i:D4}"), value);

        engine.GetStats().ImmutableMemtables.Should().Be(2);
        var flush = scheduler.Take(scheduler.Flushes);
        flush.Engine.Should().Be(Dir);
        flush.EstimateBytes().Should().BeGreaterThan(2 * 64 * 1024);

        long written = await flush.RunAsync(CancellationToken.None);

        written.Should().BeGreaterThan(0);
        engine.GetStats().Should().Match<EngineStats>(s => s.ImmutableMemtables == 0 && s.Flushes == 2);
        scheduler.Flushes.Should().BeEmpty("nothing was requested while the job ran");
        scheduler.Compactions.Should().ContainSingle("each flush requests a compaction; they fold into one job");
        S(engine.Get(B("k0149"))).Should().Be(S(value));
    }

    [Fact]
    public async Task A_compaction_job_runs_one_compaction_and_asks_again_while_more_is_due()
    {
        var scheduler = new ManualScheduler();
        await using var engine = LsmEngine.Open(Dir, ManualOptions(scheduler));
        await scheduler.Take(scheduler.Compactions).RunAsync(CancellationToken.None); // the check at open: nothing to do
        var value = new byte[1024];
        // The same keys each round: the first tables are pushed below L0, later ones overlap them and stay in L0.
        for (int round = 0; round < 10 && engine.GetStats().Levels[0].Files < 2; round++)
        {
            for (int i = 0; i < 70; i++)
                engine.Put(B($"k{i:D4}"), value);
            await scheduler.Take(scheduler.Flushes).RunAsync(CancellationToken.None);
        }
        engine.GetStats().Levels[0].Files.Should().BeGreaterThanOrEqualTo(2);

        var compaction = scheduler.Take(scheduler.Compactions);
        compaction.EstimateBytes().Should().BeGreaterThan(0);
        await compaction.RunAsync(CancellationToken.None);

        engine.GetStats().Compactions.Should().Be(1);
        engine.GetStats().Levels[0].Files.Should().Be(0);
        // It asked again (the picker may find more); that job finds nothing and asks no more.
        await scheduler.Take(scheduler.Compactions).RunAsync(CancellationToken.None);
        scheduler.Compactions.Should().BeEmpty();
    }

    [Fact]
    public async Task A_job_of_a_closed_engine_does_nothing()
    {
        var scheduler = new ManualScheduler();
        var engine = LsmEngine.Open(Dir, ManualOptions(scheduler));
        var compaction = scheduler.Take(scheduler.Compactions);
        await engine.DisposeAsync();

        (await compaction.RunAsync(CancellationToken.None)).Should().Be(0);
        scheduler.Compactions.Should().BeEmpty();
    }
}
