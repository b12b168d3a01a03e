using System.Diagnostics;
using LsmRaft.Storage.Cache;
using LsmRaft.Storage.IO;
using LsmRaft.Storage.Memtable;
using LsmRaft.Storage.Table;
using LsmRaft.Storage.Versions;
using LsmRaft.Storage.Wal;

namespace LsmRaft.Storage;

/// <summary>
/// An embedded, crash-safe LSM-tree key-value store. Thread-safe: any number of concurrent readers
/// and writers. Keys and values are arbitrary bytes ordered by unsigned byte-wise comparison;
/// limits are in <see cref="Limits"/>.
/// </summary>
/// <remarks>
/// Locks, always taken in this order when nested: <c>_versionLock</c> (manifest, file deletion) →
/// <c>_stateLock</c> (memtables, super version, stalls) → <c>_snapshotLock</c>. The write queue lock
/// <c>_writeLock</c> is never held while taking another lock.
/// </remarks>
public sealed partial class LsmEngine : IDisposable, IAsyncDisposable
{
    private const string LockFileName = "LOCK";

    private readonly string _directory;
    private readonly LsmOptions _options;
    private readonly IFileSystem _fs;
    private readonly IDisposable _fileLock;
    private readonly EngineCounters _counters = new();
    private readonly BlockCache _blockCache;
    private readonly TableCache _tables;
    private readonly VersionSet _versions;
    private readonly object _versionLock = new();
    private readonly object _stateLock = new();
    private readonly CancellationTokenSource _closing = new();

    // Guarded by _stateLock.
    private MemTable _mem;
    private readonly List<MemTable> _immutables = new(); // oldest first
    private SuperVersion _super;
    private Exception? _backgroundError;

    // Owned by the current write leader.
    private LogWriter? _wal;
    private IWritableFile? _walFile;

    /// <summary>Highest sequence visible to readers. Written only by the write leader.</summary>
    private ulong _lastSequence;
    private int _disposed;

    private LsmEngine(string directory, LsmOptions options, IDisposable fileLock)
    {
        _directory = directory;
        _options = options;
        _fs = options.FileSystem;
        _fileLock = fileLock;
        _blockCache = options.BlockCache ?? new BlockCache(8 * 1024 * 1024);
        _tables = new TableCache(_fs, directory, _blockCache, _counters);
        _versions = new VersionSet(_fs, directory, options.NumLevels);
        _mem = new MemTable(0);
        _super = new SuperVersion(_mem, Array.Empty<MemTable>(), _versions.Current);
    }

    /// <summary>The directory this engine owns.</summary>
    public string Directory => _directory;

    /// <summary>
    /// Opens (creating if needed) the database in <paramref name="directory"/>, replaying the WAL.
    /// Throws <see cref="DatabaseLockedException"/> when another engine has it open,
    /// <see cref="CorruptionException"/> naming the file when recovery meets damaged data before a
    /// WAL's torn tail, and <see cref="InvalidOptionException"/> naming a bad option.
    /// </summary>
    public static LsmEngine Open(string directory, LsmOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        options ??= new LsmOptions();
        options.Validate();
        var fs = options.FileSystem;
        fs.CreateDirectory(directory);
        var fileLock = fs.Lock(Path.Combine(directory, LockFileName));
        LsmEngine? engine = null;
        try
        {
            engine = new LsmEngine(directory, options, fileLock);
            engine.Recover();
            engine.StartBackgroundWork();
            options.Metrics?.Attach(engine);
            return engine;
        }
        catch
        {
            if (engine is not null)
            {
                engine._closing.Cancel();
                engine.StopBackgroundWorkAsync().GetAwaiter().GetResult();
                engine.ReleaseResources();
            }
            fileLock.Dispose();
            throw;
        }
    }

    /// <summary>With the WAL off: the highest applied index made durable by a flush (-1 when none).</summary>
    public long DurableAppliedIndex
    {
        get { lock (_versionLock) return _versions.AppliedIndex; }
    }

    public EngineStats GetStats()
    {
        ThrowIfDisposed();
        var sv = AcquireSuperVersion();
        try
        {
            var version = sv.Version;
            var levels = new List<LevelStats>(version.NumLevels);
            for (int level = 0; level < version.NumLevels; level++)
                levels.Add(new LevelStats(level, version.Levels[level].Length, version.LevelBytes(level)));
            long user = Interlocked.Read(ref _counters.UserBytesWritten);
            long wal = Interlocked.Read(ref _counters.WalBytesWritten);
            long flush = Interlocked.Read(ref _counters.FlushBytesWritten);
            long compaction = Interlocked.Read(ref _counters.CompactionBytesWritten);
            return new EngineStats
            {
                Levels = levels,
                MemtableBytes = sv.Mem.ApproximateBytes,
                ImmutableMemtables = sv.Immutables.Length,
                LastSequence = (long)Volatile.Read(ref _lastSequence),
                UserBytesWritten = user,
                WalBytesWritten = wal,
                FlushBytesWritten = flush,
                CompactionBytesWritten = compaction,
                CompactionBytesRead = Interlocked.Read(ref _counters.CompactionBytesRead),
                WriteAmplification = user == 0 ? 0 : (wal + flush + compaction) / (double)user,
                Flushes = Interlocked.Read(ref _counters.Flushes),
                Compactions = Interlocked.Read(ref _counters.Compactions),
                BloomChecks = Interlocked.Read(ref _counters.BloomChecks),
                BloomUseful = Interlocked.Read(ref _counters.BloomUseful),
                BloomFalsePositives = Interlocked.Read(ref _counters.BloomFalsePositives),
                BlockCacheHits = _blockCache.Hits,
                BlockCacheMisses = _blockCache.Misses,
                WriteSlowdowns = Interlocked.Read(ref _counters.WriteSlowdowns),
                WriteStops = Interlocked.Read(ref _counters.WriteStops),
                WriteStallMicros = Interlocked.Read(ref _counters.WriteStallMicros),
                CompactionDebtBytes = Compaction.CompactionPicker.DebtBytes(version, _options),
            };
        }
        finally
        {
            sv.Unref();
        }
    }

    /// <summary>
    /// Closes the engine: waits for queued writes, makes every acknowledged write durable (syncs the
    /// WAL; with the WAL off, flushes the memtable), stops background work and releases the directory lock.
    /// </summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        Exception? failure = null;
        bool flushOnClose = false;
        try
        {
            DrainWriters();
            flushOnClose = !_options.EnableWal && Volatile.Read(ref _backgroundError) is null;
            if (flushOnClose)
                FlushInternal(wait: false); // the memtable becomes immutable; this thread flushes it below
        }
        catch (Exception e)
        {
            failure = e;
        }
        _closing.Cancel();
        // Running jobs finish on their own threads; queued ones find the gate closed and do nothing. The final flush
        // then runs here, not through the scheduler: a node stopping thousands of engines at once would otherwise
        // block a pool thread per engine waiting for flush jobs that need pool threads to run.
        await StopBackgroundWorkAsync().ConfigureAwait(false);
        try
        {
            if (flushOnClose && failure is null)
            {
                FlushImmutables();
                ThrowIfBackgroundError();
            }
            _wal?.Sync();
        }
        catch (Exception e)
        {
            failure ??= e;
        }
        _options.Metrics?.Detach(this);
        ReleaseResources();
        _fileLock.Dispose();
        if (failure is not null)
            throw new LsmException($"Closing the database in '{_directory}' failed; data written since the last successful sync may be lost.", failure);
    }

    private void ReleaseResources()
    {
        _wal?.Dispose();
        _walFile?.Dispose();
        _wal = null;
        _walFile = null;
        _versions.Dispose();
        _tables.Dispose();
    }

    private void ThrowIfDisposed()
    {
        if (Volatile.Read(ref _disposed) != 0)
            throw new EngineClosedException($"The database in '{_directory}' is closed.");
    }

    private void ThrowIfBackgroundError()
    {
        if (Volatile.Read(ref _backgroundError) is { } error)
            throw new EngineClosedException($"The database in '{_directory}' stopped accepting writes after a background error: {error.Message}", error);
    }

    private SuperVersion AcquireSuperVersion()
    {
        lock (_stateLock)
        {
            _super.Ref();
            return _super;
        }
    }

    /// <summary>Replaces the super version after a memtable or version change. Caller holds _stateLock.</summary>
    private void InstallSuperVersion()
    {
        var immutables = new MemTable[_immutables.Count];
        for (int i = 0; i < immutables.Length; i++)
            immutables[i] = _immutables[_immutables.Count - 1 - i];
        var old = _super;
        _super = new SuperVersion(_mem, immutables, _versions.Current);
        old.Unref();
    }

    private static long ElapsedMicros(long startTimestamp) =>
        (long)Stopwatch.GetElapsedTime(startTimestamp).TotalMicroseconds;
}
