using System.Diagnostics.Metrics;

namespace LsmRaft.Storage.Tests.Engine;

/// <summary>StorageMetrics: the instruments exist, follow the engines' own counters, and never go back when an engine closes.</summary>
public sealed class EngineMetricsTests : EngineTestBase
{
    [Fact]
    public void Instruments_follow_writes_flushes_compactions_and_reads_and_keep_their_totals_after_the_engine_closes()
    {
        using var factory = new ScopedMeterFactory();
        using var metrics = new StorageMetrics(factory);
        using var collector = new Collector(factory);
        var options = SmallOptions() with { Metrics = metrics };

        EngineStats stats;
        using (var db = LsmEngine.Open(Dir, options))
        {
            collector.Collect()["lsmraft.storage.engines"].Should().Be(1);
            // Two rounds over the same keys: the second round's tables overlap the first's, so compaction has work.
            for (int round = 0; round < 2; round++)
            {
                for (int i = 0; i < 3000; i++)
                    db.Put(B($"key{i:D5}"), B(new string('v', 40) + i));
                db.Flush();
            }
            db.CompactRange();
            for (int i = 0; i < 3000; i += 7)
                S(db.Get(B($"key{i:D5}"))).Should().EndWith(i.ToString());
            stats = db.GetStats();
            var open = collector.Collect();
            open["lsmraft.storage.flushes"].Should().Be(stats.Flushes).And.BeGreaterThan(0);
            open["lsmraft.storage.compactions"].Should().Be(stats.Compactions).And.BeGreaterThan(0);
            open["lsmraft.storage.written|kind=user"].Should().Be(stats.UserBytesWritten);
            open["lsmraft.storage.written|kind=flush"].Should().Be(stats.FlushBytesWritten);
            open["lsmraft.storage.written|kind=compaction"].Should().Be(stats.CompactionBytesWritten);
            open["lsmraft.storage.read|kind=compaction"].Should().Be(stats.CompactionBytesRead);
            open["lsmraft.storage.read|kind=block"].Should().BeGreaterThan(0);
            open["lsmraft.storage.block_cache.hits"].Should().Be(stats.BlockCacheHits);
            open["lsmraft.storage.block_cache.misses"].Should().Be(stats.BlockCacheMisses).And.BeGreaterThan(0);
            foreach (var level in stats.Levels)
            {
                open[$"lsmraft.storage.level.size|level={level.Level}"].Should().Be(level.Bytes);
                open[$"lsmraft.storage.level.files|level={level.Level}"].Should().Be(level.Files);
            }
            open.Should().ContainKey("lsmraft.storage.write_stalls|kind=slowdown");
            open.Should().ContainKey("lsmraft.storage.write_stall.time");
        }

        // Closed: the counters keep their totals (the close's own flush included), the gauges drop to nothing.
        var closed = collector.Collect();
        closed["lsmraft.storage.engines"].Should().Be(0);
        closed["lsmraft.storage.flushes"].Should().BeGreaterThanOrEqualTo(stats.Flushes);
        closed["lsmraft.storage.written|kind=user"].Should().Be(stats.UserBytesWritten);
        closed["lsmraft.storage.block_cache.misses"].Should().Be(stats.BlockCacheMisses);
        closed["lsmraft.storage.memtable.size"].Should().Be(0);

        using (var reopened = LsmEngine.Open(Dir, options))
        {
            reopened.Put(B("after"), B("reopen"));
            collector.Collect()["lsmraft.storage.written|kind=user"].Should().Be(stats.UserBytesWritten + reopened.GetStats().UserBytesWritten,
                "a reopened engine's counters start from zero and add to the closed totals");
        }
    }

    [Fact]
    public void Meters_of_two_factories_stay_apart()
    {
        using var first = new ScopedMeterFactory();
        using var second = new ScopedMeterFactory();
        using var firstMetrics = new StorageMetrics(first);
        using var secondMetrics = new StorageMetrics(second);
        using var collector = new Collector(first);
        using var db = LsmEngine.Open(Dir, SmallOptions() with { Metrics = secondMetrics });
        db.Put(B("k"), B("v"));

        var values = collector.Collect();
        values["lsmraft.storage.engines"].Should().Be(0, "the engine reports to the second factory's meter only");
        values["lsmraft.storage.written|kind=user"].Should().Be(0);
    }

    /// <summary>An <see cref="IMeterFactory"/> whose meters carry it as their scope (what a DI container's factory does).</summary>
    private sealed class ScopedMeterFactory : IMeterFactory
    {
        private readonly List<Meter> _meters = new();

        public Meter Create(MeterOptions options)
        {
            var meter = new Meter(new MeterOptions(options.Name) { Version = options.Version, Tags = options.Tags, Scope = this });
            _meters.Add(meter);
            return meter;
        }

        public void Dispose() => _meters.ForEach(m => m.Dispose());
    }

    /// <summary>Reads the latest value of every observable instrument of one factory's meters, keyed "name|tag=value".</summary>
    private sealed class Collector : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly Dictionary<string, double> _values = new();

        public Collector(IMeterFactory scope)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Scope == scope)
                    listener.EnableMeasurementEvents(instrument);
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
            _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Record(instrument, value, tags));
            _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument, value, tags));
            _listener.Start();
        }

        public IReadOnlyDictionary<string, double> Collect()
        {
            _values.Clear();
            _listener.RecordObservableInstruments();
            return new Dictionary<string, double>(_values);
        }

        private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            string key = instrument.Name;
            foreach (var tag in tags)
                key += $"|{tag.Key}={tag.Value}";
            _values[key] = value;
        }

        public void Dispose() => _listener.Dispose();
    }
}
