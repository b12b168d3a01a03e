using System.Diagnostics.Metrics;
using LsmRaft.Storage.Cache;
using LsmRaft.Storage.Versions;

namespace LsmRaft.Storage;

/// <summary>
/// The storage engine's instruments (<see cref="System.Diagnostics.Metrics"/>), for any number of engines: a node
/// creates one and hands it to every engine it opens through <see cref="LsmOptions.Metrics"/>, like the block cache.
/// Every instrument is observed when a listener collects, from the counters the engines keep anyway, so metrics cost
/// nothing on the read and write paths. An engine attaches when it opens and detaches when it closes; the counters of
/// closed engines (and of caches no open engine uses) are kept, so the totals never go back.
/// </summary>
/// <remarks>
/// Meter <see cref="MeterName"/>, created by the <see cref="IMeterFactory"/> given (so a process with several nodes
/// keeps each node's figures apart: one factory, and so one set of listeners, per node). Instruments, with their
/// tags: <c>lsmraft.storage.flushes</c>, <c>lsmraft.storage.compactions</c>, <c>lsmraft.storage.written</c>
/// (bytes; <c>kind</c> = user, wal, flush, compaction), <c>lsmraft.storage.read</c> (bytes; <c>kind</c> = block,
/// compaction), <c>lsmraft.storage.write_stalls</c> (<c>kind</c> = slowdown, stop), <c>lsmraft.storage.write_stall.time</c>
/// (seconds), <c>lsmraft.storage.block_cache.hits</c>, <c>.misses</c>, <c>.usage</c> (bytes), <c>lsmraft.storage.level.size</c>
/// (bytes; <c>level</c>), <c>lsmraft.storage.level.files</c> (<c>level</c>), <c>lsmraft.storage.memtable.size</c> (bytes,
/// active and immutable memtables), <c>lsmraft.storage.engines</c>.
/// </remarks>
public sealed class StorageMetrics : IDisposable
{
    public const string MeterName = "LsmRaft.Storage";

    private readonly Meter _meter;
    private readonly object _gate = new();
    private readonly List<LsmEngine> _engines = new();
    private readonly EngineCounters _closed = new();
    private readonly Dictionary<BlockCache, CacheUse> _caches = new(ReferenceEqualityComparer.Instance);
    private long _closedCacheHits;
    private long _closedCacheMisses;

    /// <param name="meterFactory">Creates the meter (its scope is what listeners of one node select).</param>
    /// <param name="tags">Tags of the meter, e.g. the node's id.</param>
    public StorageMetrics(IMeterFactory meterFactory, IEnumerable<KeyValuePair<string, object?>>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        _meter = meterFactory.Create(new MeterOptions(MeterName) { Tags = tags });
        _meter.CreateObservableCounter("lsmraft.storage.flushes", () => Sum(c => c.Flushes), "{flush}", "Memtables flushed to SSTables");
        _meter.CreateObservableCounter("lsmraft.storage.compactions", () => Sum(c => c.Compactions), "{compaction}", "Compactions finished");
        _meter.CreateObservableCounter("lsmraft.storage.written", () => new[]
        {
            Kind(Sum(c => c.UserBytesWritten), "user"),
            Kind(Sum(c => c.WalBytesWritten), "wal"),
            Kind(Sum(c => c.FlushBytesWritten), "flush"),
            Kind(Sum(c => c.CompactionBytesWritten), "compaction"),
        }, "By", "Bytes written: by user writes (keys and values), to the WAL, by flushes and by compactions");
        _meter.CreateObservableCounter("lsmraft.storage.read", () => new[]
        {
            Kind(Sum(c => c.BlockBytesRead), "block"),
            Kind(Sum(c => c.CompactionBytesRead), "compaction"),
        }, "By", "Bytes read: data blocks read from table files (cache misses, compaction inputs included) and compaction input tables");
        _meter.CreateObservableCounter("lsmraft.storage.write_stalls", () => new[]
        {
            Kind(Sum(c => c.WriteSlowdowns), "slowdown"),
            Kind(Sum(c => c.WriteStops), "stop"),
        }, "{stall}", "Writes delayed (slowdown: L0 past its slowdown trigger) or stopped until a flush or compaction finished");
        _meter.CreateObservableCounter("lsmraft.storage.write_stall.time", () => Sum(c => c.WriteStallMicros) / 1e6, "s", "Time writes spent stalled");
        _meter.CreateObservableCounter("lsmraft.storage.block_cache.hits", () => CacheTotal(hits: true), "{lookup}", "Block cache lookups that found the block");
        _meter.CreateObservableCounter("lsmraft.storage.block_cache.misses", () => CacheTotal(hits: false), "{lookup}", "Block cache lookups that read the block from its file");
        _meter.CreateObservableUpDownCounter("lsmraft.storage.block_cache.usage", CacheUsage, "By", "Bytes held by the block caches of open engines");
        _meter.CreateObservableUpDownCounter("lsmraft.storage.level.size", () => Levels(files: false), "By", "Bytes of SSTables per level, over all open engines");
        _meter.CreateObservableUpDownCounter("lsmraft.storage.level.files", () => Levels(files: true), "{file}", "SSTables per level, over all open engines");
        _meter.CreateObservableUpDownCounter("lsmraft.storage.memtable.size", MemtableBytes, "By", "Bytes in active and immutable memtables, over all open engines");
        _meter.CreateObservableUpDownCounter("lsmraft.storage.engines", () => { lock (_gate) return _engines.Count; }, "{engine}", "Open engines");
    }

    /// <summary>Called by an engine once it is open.</summary>
    internal void Attach(LsmEngine engine)
    {
        lock (_gate)
        {
            _engines.Add(engine);
            var cache = engine.Cache;
            if (_caches.TryGetValue(cache, out var use))
                use.Engines++;
            else
                _caches[cache] = new CacheUse { Engines = 1, BaseHits = cache.Hits, BaseMisses = cache.Misses };
        }
    }

    /// <summary>Called by an engine when it closes, after its last background work: its counters join the closed totals.</summary>
    internal void Detach(LsmEngine engine)
    {
        lock (_gate)
        {
            if (!_engines.Remove(engine))
                return;
            var c = engine.Counters;
            _closed.Flushes += Interlocked.Read(ref c.Flushes);
            _closed.Compactions += Interlocked.Read(ref c.Compactions);
            _closed.UserBytesWritten += Interlocked.Read(ref c.UserBytesWritten);
            _closed.WalBytesWritten += Interlocked.Read(ref c.WalBytesWritten);
            _closed.FlushBytesWritten += Interlocked.Read(ref c.FlushBytesWritten);
            _closed.CompactionBytesWritten += Interlocked.Read(ref c.CompactionBytesWritten);
            _closed.CompactionBytesRead += Interlocked.Read(ref c.CompactionBytesRead);
            _closed.BlockBytesRead += Interlocked.Read(ref c.BlockBytesRead);
            _closed.WriteSlowdowns += Interlocked.Read(ref c.WriteSlowdowns);
            _closed.WriteStops += Interlocked.Read(ref c.WriteStops);
            _closed.WriteStallMicros += Interlocked.Read(ref c.WriteStallMicros);
            var cache = engine.Cache;
            if (_caches.TryGetValue(cache, out var use) && --use.Engines == 0)
            {
                _closedCacheHits += cache.Hits - use.BaseHits;
                _closedCacheMisses += cache.Misses - use.BaseMisses;
                _caches.Remove(cache);
            }
        }
    }

    public void Dispose() => _meter.Dispose();

    private static Measurement<long> Kind(long value, string kind) => new(value, new KeyValuePair<string, object?>("kind", kind));

    private long Sum(Func<EngineCounters, long> read)
    {
        lock (_gate)
        {
            long total = read(_closed);
            foreach (var engine in _engines)
                total += read(engine.Counters);
            return total;
        }
    }

    private long CacheTotal(bool hits)
    {
        lock (_gate)
        {
            long total = hits ? _closedCacheHits : _closedCacheMisses;
            foreach (var (cache, use) in _caches)
                total += hits ? cache.Hits - use.BaseHits : cache.Misses - use.BaseMisses;
            return total;
        }
    }

    private long CacheUsage()
    {
        lock (_gate)
            return _caches.Keys.Sum(cache => cache.UsageBytes);
    }

    private long MemtableBytes()
    {
        lock (_gate)
            return _engines.Sum(engine => engine.MemtableBytes());
    }

    private IEnumerable<Measurement<long>> Levels(bool files)
    {
        var totals = new long[12];
        int levels = 0;
        lock (_gate)
        {
            foreach (var engine in _engines)
                levels = Math.Max(levels, engine.AddLevelShape(totals, files));
        }
        var result = new Measurement<long>[levels];
        for (int level = 0; level < levels; level++)
            result[level] = new Measurement<long>(totals[level], new KeyValuePair<string, object?>("level", level));
        return result;
    }

    private sealed class CacheUse
    {
        public int Engines;
        public long BaseHits;
        public long BaseMisses;
    }
}
