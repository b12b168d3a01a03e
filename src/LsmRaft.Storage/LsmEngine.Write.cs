using System.Buffers.Binary;
using System.Diagnostics;
using LsmRaft.Storage.Format;
using LsmRaft.Storage.Memtable;
using LsmRaft.Storage.Wal;

namespace LsmRaft.Storage;

// The write path: a queue of writers in which the head is the leader (LevelDB's scheme). The leader
// makes room (switching memtables, stalling when flushes or L0 fall behind), merges the batches
// queued behind it into one WAL record, syncs once for the whole group, applies them to the memtable,
// publishes the new last sequence, and wakes the group.
public sealed partial class LsmEngine
{
    /// <summary>Largest group a leader assembles, in batch bytes.</summary>
    private const int MaxGroupBytes = 1 << 20;
    private const int WalRecordHeader = 12; // sequence:u64 + count:u32

    private readonly object _writeLock = new();
    private readonly Queue<Writer> _writers = new();
    private bool _rejectWrites; // guarded by _writeLock; set by Dispose so no writer enqueues after the drain
    private byte[] _walBuffer = new byte[4096];

    // Owned by the current leader: feedback for the adaptive commit delay.
    private int _lastGroupSize;
    private long _lastSyncTicks;

    public void Put(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value) => Write(new WriteBatch().Put(key, value));

    public void Delete(ReadOnlySpan<byte> key) => Write(new WriteBatch().Delete(key));

    /// <summary>
    /// Applies every operation of <paramref name="batch"/> atomically, durable per <see cref="LsmOptions.Sync"/>.
    /// <paramref name="appliedIndex"/> (≥ 0) records, with the WAL off, the caller's log position this write
    /// reflects; <see cref="DurableAppliedIndex"/> reports the highest one made durable.
    /// </summary>
    public void Write(WriteBatch batch, long appliedIndex = -1)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ThrowIfDisposed();
        if (batch.Count == 0 && appliedIndex < 0)
            return;
        RunWriter(new Writer(batch, appliedIndex, forceFlush: false));
    }

    /// <summary>Writes the memtable to an SSTable and waits until it is durable in the manifest.</summary>
    public void Flush()
    {
        ThrowIfDisposed();
        FlushInternal(wait: true);
    }

    private void FlushInternal(bool wait)
    {
        RunWriter(new Writer(null, -1, forceFlush: true) { Internal = Volatile.Read(ref _disposed) != 0 });
        if (!wait)
            return;
        lock (_stateLock)
        {
            while (_immutables.Count > 0 && _backgroundError is null)
                Monitor.Wait(_stateLock);
        }
        ThrowIfBackgroundError();
    }

    private void RunWriter(Writer writer)
    {
        lock (_writeLock)
        {
            if (_rejectWrites && !writer.Internal)
                throw new EngineClosedException($"The database in '{_directory}' is closed.");
            _writers.Enqueue(writer);
        }
        // Each writer sleeps on its own event, woken only when its group is done or it becomes the
        // head (leader): no thundering herd on every group commit.
        while (true)
        {
            ManualResetEventSlim wake;
            lock (_writeLock)
            {
                if (writer.Done || ReferenceEquals(_writers.Peek(), writer))
                    break;
                // Created only by writers that actually wait (under the lock the leader signals under).
                wake = writer.Wake ??= new ManualResetEventSlim(false, spinCount: 20);
            }
            wake.Wait();
            wake.Reset();
        }
        if (writer.Done)
        {
            if (writer.Error is not null)
                throw writer.Error;
            return;
        }

        // This writer leads a group.
        var group = new List<Writer>(1) { writer };
        Exception? error = null;
        try
        {
            ThrowIfBackgroundError();
            MakeRoomForWrite(force: writer.ForceFlush);
            if (writer.Batch is not null)
            {
                AwaitArrivingWriters();
                CollectGroup(writer, group);
                try
                {
                    CommitGroup(group);
                }
                catch (Exception e) when (e is not LsmException)
                {
                    // A failed WAL append or sync leaves the log's tail unknown: stop taking writes
                    // rather than acknowledge later ones that recovery might not replay.
                    SetBackgroundError(e);
                    throw;
                }
            }
        }
        catch (Exception e)
        {
            error = e;
        }
        lock (_writeLock)
        {
            foreach (var member in group)
            {
                _writers.Dequeue();
                member.Error = member == writer ? null : error;
                member.Done = true;
                if (member != writer)
                    member.Wake?.Set();
            }
            if (_writers.Count > 0)
                _writers.Peek().Wake?.Set(); // the next leader
            else
                Monitor.PulseAll(_writeLock); // DrainWriters waits for an empty queue
        }
        if (error is not null)
            throw error;
    }

    /// <summary>
    /// Adaptive commit delay (PostgreSQL's commit_delay, made self-tuning). With N synced writers and a
    /// leader that syncs as soon as it leads, writers split into two cohorts that alternate — while one
    /// cohort's fsync runs, the other queues — so each fsync covers about N/2 writes. When the previous
    /// group held several writers, the leader instead lets the queue grow while it keeps growing, for at
    /// most half of the last fsync's duration, so the cohort just released by the previous fsync can
    /// join this one. A lone writer never waits.
    /// </summary>
    private void AwaitArrivingWriters()
    {
        if (!_options.EnableWal || _options.Sync != SyncMode.GroupCommit || _lastGroupSize < 2 || _lastSyncTicks <= 0)
            return;
        long cap = Math.Min(_lastSyncTicks / 2, System.Diagnostics.Stopwatch.Frequency / 2000); // ≤ 500 µs
        long step = System.Diagnostics.Stopwatch.Frequency / 20_000; // 50 µs
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        int seen = QueueLength();
        long lastGrowth = start;
        while (true)
        {
            Thread.SpinWait(64);
            long now = System.Diagnostics.Stopwatch.GetTimestamp();
            int queued = QueueLength();
            if (queued > seen)
            {
                seen = queued;
                lastGrowth = now;
            }
            if (now - start >= cap || now - lastGrowth >= step)
                return;
        }
    }

    private int QueueLength()
    {
        lock (_writeLock) return _writers.Count;
    }

    /// <summary>Adds writers queued behind the leader, stopping at a flush request, at EveryWrite sync, or at the size cap.</summary>
    private void CollectGroup(Writer leader, List<Writer> group)
    {
        if (_options.EnableWal && _options.Sync == SyncMode.EveryWrite)
            return;
        lock (_writeLock)
        {
            int bytes = leader.Batch!.ByteSize;
            bool first = true;
            foreach (var w in _writers)
            {
                if (first)
                {
                    first = false; // the leader itself
                    continue;
                }
                if (w.Batch is null || bytes + w.Batch.ByteSize > MaxGroupBytes)
                    break;
                bytes += w.Batch.ByteSize;
                group.Add(w);
            }
        }
    }

    private void CommitGroup(List<Writer> group)
    {
        ulong first = Volatile.Read(ref _lastSequence) + 1;
        int count = 0;
        foreach (var w in group)
            count += w.Batch!.Count;
        if (first + (ulong)count > InternalKey.MaxSequence)
            throw new LsmException("Sequence numbers are exhausted (2^56 writes).");

        if (_options.EnableWal && count > 0)
        {
            var record = EncodeWalRecord(first, count, group);
            _wal!.AddRecord(record);
            if (_options.Sync == SyncMode.None)
            {
                _wal.Flush();
            }
            else
            {
                long syncStart = System.Diagnostics.Stopwatch.GetTimestamp();
                _wal.Sync();
                _lastSyncTicks = System.Diagnostics.Stopwatch.GetTimestamp() - syncStart;
            }
            _lastGroupSize = group.Count;
            Interlocked.Add(ref _counters.WalBytesWritten, record.Length);
        }

        var mem = _mem;
        ulong sequence = first;
        long userBytes = 0;
        foreach (var w in group)
        {
            var batch = w.Batch!;
            ApplyBatch(mem, batch.Operations, batch.Count, ref sequence, "write batch");
            userBytes += batch.ByteSize;
            if (w.AppliedIndex >= 0)
                mem.NoteAppliedIndex(w.AppliedIndex);
        }
        Interlocked.Add(ref _counters.UserBytesWritten, userBytes);
        Volatile.Write(ref _lastSequence, sequence - 1);
    }

    private static void ApplyBatch(MemTable mem, ReadOnlySpan<byte> operations, int count, ref ulong sequence, string source)
    {
        var reader = new WriteBatch.Reader(operations, count, source);
        while (reader.MoveNext())
            mem.Add(sequence++, reader.Kind, reader.Key, reader.Value);
    }

    /// <summary>WAL record payload: <c>first sequence:u64 LE, operation count:u32 LE, operations</c> (see docs/formats/wal.md).</summary>
    private ReadOnlySpan<byte> EncodeWalRecord(ulong firstSequence, int count, List<Writer> group)
    {
        int length = WalRecordHeader;
        foreach (var w in group)
            length += w.Batch!.Operations.Length;
        if (_walBuffer.Length < length)
            _walBuffer = new byte[Math.Max(length, _walBuffer.Length * 2)];
        var span = _walBuffer.AsSpan(0, length);
        BinaryPrimitives.WriteUInt64LittleEndian(span, firstSequence);
        BinaryPrimitives.WriteUInt32LittleEndian(span[8..], (uint)count);
        int p = WalRecordHeader;
        foreach (var w in group)
        {
            w.Batch!.Operations.CopyTo(span[p..]);
            p += w.Batch.Operations.Length;
        }
        return span;
    }

    /// <summary>
    /// Called by the leader before writing. Delays the write by 1 ms once when L0 is past the slowdown
    /// trigger, switches to a fresh memtable when the current one is full (or <paramref name="force"/>),
    /// and blocks while too many memtables await flush or L0 is past the stop trigger.
    /// </summary>
    private void MakeRoomForWrite(bool force)
    {
        bool allowDelay = !force;
        long stallStart = 0;
        while (true)
        {
            lock (_stateLock)
            {
                ThrowIfBackgroundError();
                int level0 = _versions.Current.Levels[0].Length;
                if (allowDelay && level0 >= _options.Level0SlowdownTrigger)
                {
                    allowDelay = false;
                    Interlocked.Increment(ref _counters.WriteSlowdowns);
                }
                else if (!force && _mem.ApproximateBytes < _options.FlushThresholdBytes)
                {
                    AccountStall(stallStart);
                    return;
                }
                else if (force && _mem.IsEmpty && _mem.MaxAppliedIndex < 0)
                {
                    AccountStall(stallStart);
                    return;
                }
                else if (_immutables.Count >= _options.MaxImmutableMemtables || level0 >= _options.Level0StopTrigger)
                {
                    if (stallStart == 0)
                    {
                        stallStart = Stopwatch.GetTimestamp();
                        Interlocked.Increment(ref _counters.WriteStops);
                    }
                    RequestCompaction();
                    Monitor.Wait(_stateLock);
                    continue;
                }
                else
                {
                    SwitchMemtable();
                    AccountStall(stallStart);
                    return;
                }
            }
            // The deliberate 1 ms slowdown (outside the lock): lets compaction catch up gradually instead of a hard stop later.
            long start = Stopwatch.GetTimestamp();
            Thread.Sleep(1);
            Interlocked.Add(ref _counters.WriteStallMicros, ElapsedMicros(start));
        }
    }

    private void AccountStall(long stallStart)
    {
        if (stallStart != 0)
            Interlocked.Add(ref _counters.WriteStallMicros, ElapsedMicros(stallStart));
    }

    /// <summary>Moves the active memtable to the flush queue and starts a new one (and a new WAL). Caller holds _stateLock and leads the write queue.</summary>
    private void SwitchMemtable()
    {
        ulong walNumber = 0;
        if (_options.EnableWal)
        {
            walNumber = _versions.NewFileNumber();
            var file = _fs.Create(Path.Combine(_directory, WalFileName(walNumber)));
            var writer = new LogWriter(file);
            writer.Flush();
            // The old WAL holds acknowledged writes; with SyncMode.None they may sit in OS buffers, which is the contract.
            _wal?.Flush();
            _wal?.Dispose();
            _walFile?.Dispose();
            _wal = writer;
            _walFile = file;
        }
        _immutables.Add(_mem);
        _mem = new MemTable(walNumber);
        InstallSuperVersion();
        RequestFlush();
    }

    internal static string WalFileName(ulong number) => $"{number:D6}.log";

    private void DrainWriters()
    {
        lock (_writeLock)
        {
            _rejectWrites = true;
            while (_writers.Count > 0)
                Monitor.Wait(_writeLock);
        }
    }

    private sealed class Writer
    {
        public Writer(WriteBatch? batch, long appliedIndex, bool forceFlush)
        {
            Batch = batch;
            AppliedIndex = appliedIndex;
            ForceFlush = forceFlush;
        }

        public WriteBatch? Batch { get; }
        public long AppliedIndex { get; }
        public bool ForceFlush { get; }

        /// <summary>Set when this writer's group is done or it has become the leader; null until the writer has to wait. Guarded by _writeLock.</summary>
        public ManualResetEventSlim? Wake { get; set; }

        /// <summary>Issued by the engine itself (the closing flush), accepted after writes are rejected.</summary>
        public bool Internal { get; init; }
        public bool Done { get; set; }
        public Exception? Error { get; set; }
    }
}
