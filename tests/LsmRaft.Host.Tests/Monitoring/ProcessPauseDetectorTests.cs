using System.Diagnostics.Metrics;
using LsmRaft.Host.Monitoring;
using LsmRaft.Host.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace LsmRaft.Host.Tests.Monitoring;

/// <summary>The pause detector's arithmetic with a hand-moved clock and GC source; and its thread's start and stop.</summary>
public sealed class ProcessPauseDetectorTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan Threshold = TimeSpan.FromSeconds(1);

    [Fact]
    public void A_wake_on_time_is_no_pause_and_logs_nothing()
    {
        var (detector, clock, _, sink) = Create();
        clock.Advance(Interval);
        var sample = detector.Step();
        sample.Pause.Should().Be(TimeSpan.Zero);
        sample.Window.Should().Be(Interval);
        clock.Advance(Interval - TimeSpan.FromMilliseconds(5)); // early (a wait may end a little early): never negative
        detector.Step().Pause.Should().Be(TimeSpan.Zero);
        sink.Entries.Should().BeEmpty();
        detector.MaxPause.Should().Be(TimeSpan.Zero);
    }

    [Fact]
    public void A_late_wake_is_a_pause_with_the_gc_figures_of_its_window_and_logs_one_warning()
    {
        var (detector, clock, gc, sink) = Create();
        clock.Advance(Interval);
        gc.Value = new GcCounts(TimeSpan.FromMilliseconds(40), 3, 0, 0); // before the window: not counted in it
        detector.Step();

        clock.Advance(TimeSpan.FromMilliseconds(3300));
        gc.Value = new GcCounts(TimeSpan.FromMilliseconds(2940), 5, 1, 1);
        var sample = detector.Step();

        sample.Pause.Should().Be(TimeSpan.FromMilliseconds(3200));
        sample.Gc.Should().Be(new GcCounts(TimeSpan.FromMilliseconds(2900), 2, 1, 1));
        detector.MaxPause.Should().Be(TimeSpan.FromMilliseconds(3200));
        sink.Entries.Should().ContainSingle().Which.Should().Match<(LogLevel Level, string Message, Exception? Exception)>(e =>
            e.Level == LogLevel.Warning && e.Message.StartsWith("Process paused 3.2 s (GC pauses 2.9 s in that window, gen0/gen1/gen2 collections 2/1/1)"));

        clock.Advance(Interval); // the next wake on time: no further warning, the maximum stays
        detector.Step().Pause.Should().Be(TimeSpan.Zero);
        sink.Entries.Should().HaveCount(1);
        detector.MaxPause.Should().Be(TimeSpan.FromMilliseconds(3200));
    }

    [Fact]
    public void A_pause_below_the_threshold_counts_in_the_maximum_but_does_not_warn()
    {
        var (detector, clock, _, sink) = Create();
        clock.Advance(Interval + TimeSpan.FromMilliseconds(999));
        detector.Step().Pause.Should().Be(TimeSpan.FromMilliseconds(999));
        sink.Entries.Should().BeEmpty();
        detector.MaxPause.Should().Be(TimeSpan.FromMilliseconds(999));
        clock.Advance(Interval + Threshold); // exactly the threshold warns
        detector.Step();
        sink.Entries.Should().ContainSingle();
    }

    [Fact]
    public void Metrics_export_every_wake_the_maximum_and_the_gc_totals()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var meters = services.GetRequiredService<IMeterFactory>();
        var (detector, clock, gc, _) = Create(meters);
        var recorded = new List<(string Name, double Value, string? Generation)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == ProcessPauseDetector.MeterName && instrument.Meter.Scope == meters)
                l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => recorded.Add((instrument.Name, value, null)));
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
            recorded.Add((instrument.Name, value, tags.ToArray().Single(t => t.Key == "generation").Value as string)));
        listener.Start();

        clock.Advance(Interval + TimeSpan.FromMilliseconds(1500));
        gc.Value = new GcCounts(TimeSpan.FromMilliseconds(1200), 7, 2, 1);
        detector.Step();
        listener.RecordObservableInstruments();

        recorded.Should().Contain(("lsmraft.process.pause", 1.5, null));
        recorded.Should().Contain(("lsmraft.process.pause.max", 1.5, null));
        recorded.Should().Contain(("lsmraft.process.gc.pause", 1.2, null));
        recorded.Should().Contain(("lsmraft.process.gc.collections", 7, "gen0"));
        recorded.Should().Contain(("lsmraft.process.gc.collections", 1, "gen2"));
    }

    [Fact]
    public void Started_it_runs_on_its_own_thread_until_disposed()
    {
        var detector = ProcessPauseDetector.Start(new LogSink().CreateLogger("test"), meters: null);
        detector.Running.Should().BeTrue();
        detector.Dispose();
        detector.Running.Should().BeFalse("Dispose waits for the thread to end");
    }

    [Fact]
    public void A_non_positive_interval_or_threshold_is_refused()
    {
        var act = () => new ProcessPauseDetector(new ManualClock(), () => default, new LogSink().CreateLogger("test"), null, TimeSpan.Zero, Threshold);
        act.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*interval*");
        act = () => new ProcessPauseDetector(new ManualClock(), () => default, new LogSink().CreateLogger("test"), null, Interval, TimeSpan.Zero);
        act.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*threshold*");
    }

    private static (ProcessPauseDetector Detector, ManualClock Clock, GcSource Gc, LogSink Sink) Create(IMeterFactory? meters = null)
    {
        var clock = new ManualClock();
        var gc = new GcSource();
        var sink = new LogSink();
        return (new ProcessPauseDetector(clock, () => gc.Value, sink.CreateLogger("test"), meters, Interval, Threshold), clock, gc, sink);
    }

    private sealed class GcSource
    {
        public GcCounts Value { get; set; }
    }

    /// <summary>A clock that moves only when told; timestamps in ticks.</summary>
    private sealed class ManualClock : TimeProvider
    {
        private long _ticks = TimeSpan.FromHours(1).Ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks;

        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }
}
