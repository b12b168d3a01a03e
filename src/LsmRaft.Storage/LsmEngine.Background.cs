using LsmRaft.Storage.Compaction;
using LsmRaft.Storage.Format;
using LsmRaft.Storage.Iterators;
using LsmRaft.Storage.Memtable;
using LsmRaft.Storage.Table;
using LsmRaft.Storage.Versions;

namespace LsmRaft.Storage;

// Background work: flushes (immutable memtables → L0 tables) and compactions (leveled merges). The
// engine only says when there is work (LsmEngine.Jobs.cs); a scheduler decides when it runs.
public sealed partial class LsmEngine
{
    /// <summary>Flush output may be pushed at most this deep when it overlaps nothing (as LevelDB's kMaxMemCompactLevel).</summary>
    private const int MaxFlushPushLevel = 2;

    private readonly SemaphoreSlim _compactionMutex = new(1, 1);
    private readonly HashSet<ulong> _pendingOutputs = new();
    private bool _compactionInFlight; // guarded by _versionLock

    private void SetBackgroundError(Exception error)
    {
        lock (_stateLock)
        {
            _backgroundError ??= error;
            Monitor.PulseAll(_stateLock);
        }
    }

    /// <summary>Flushes the immutable memtables, oldest first, until none is left or one fails. Returns the bytes written.</summary>
    private long FlushImmutables()
    {
        long written = 0;
        while (true)
        {
            MemTable? imm;
            lock (_stateLock)
            {
                if (_backgroundError is not null || _immutables.Count == 0)
                    return written;
                imm = _immutables[0];
            }
            try
            {
                written += FlushMemTable(imm);
            }
            catch (Exception e)
            {
                SetBackgroundError(e);
                return written;
            }
            RequestCompaction();
        }
    }

    /// <summary>Writes <paramref name="imm"/> to a table and installs it; returns the table's size (0 for an empty memtable).</summary>
    private long FlushMemTable(MemTable imm)
    {
        FileMetadata? table = imm.IsEmpty ? null : WriteLevel0Table(imm);
        try
        {
            lock (_versionLock)
            {
                var edit = new VersionEdit();
                if (table is not null)
                    edit.NewFiles.Add((PickLevelForFlush(table), table));
                lock (_stateLock)
                {
                    // WAL files older than the oldest memtable still unflushed are no longer needed.
                    edit.LogNumber = _immutables.Count > 1 ? _immutables[1].WalNumber : _mem.WalNumber;
                }
                if (imm.MaxAppliedIndex >= 0)
                    edit.AppliedIndex = imm.MaxAppliedIndex;
                _versions.LastSequence = Math.Max(_versions.LastSequence, Volatile.Read(ref _lastSequence));
                var version = _versions.LogAndApply(edit);
                lock (_stateLock)
                {
                    _versions.Install(version);
                    _immutables.Remove(imm);
                    InstallSuperVersion();
                    Monitor.PulseAll(_stateLock);
                }
                Interlocked.Increment(ref _counters.Flushes);
            }
        }
        finally
        {
            if (table is not null)
                lock (_pendingOutputs) _pendingOutputs.Remove(table.Number);
        }
        DeleteObsoleteFiles();
        return table?.Size ?? 0;
    }

    /// <summary>Writes a memtable to a new table; the number stays in <see cref="_pendingOutputs"/> until the caller installs it.</summary>
    private FileMetadata WriteLevel0Table(MemTable mem)
    {
        ulong number = NewPendingFileNumber();
        using var it = mem.NewIterator();
        it.SeekToFirst();
        var table = WriteTable(number, it, _ => false, out _);
        Interlocked.Add(ref _counters.FlushBytesWritten, table!.Size);
        return table;
    }

    private ulong NewPendingFileNumber()
    {
        ulong number = _versions.NewFileNumber();
        lock (_pendingOutputs) _pendingOutputs.Add(number);
        return number;
    }

    /// <summary>
    /// Writes entries from <paramref name="it"/> (already positioned) into table <paramref name="number"/> until the
    /// iterator ends or <paramref name="stopBefore"/> says the next user key belongs in the next file.
    /// Returns null when no entry was written.
    /// </summary>
    private FileMetadata? WriteTable(ulong number, IForwardCursor it, Func<TableBuilder, bool> stopBefore, out bool exhausted)
    {
        string path = Path.Combine(_directory, FileMetadata.TableFileName(number));
        byte[]? smallest = null, largest = null;
        ulong minSeq = ulong.MaxValue, maxSeq = 0;
        long size;
        using (var file = _fs.Create(path))
        {
            var builder = new TableBuilder(file, TableOptions);
            exhausted = true;
            while (it.Valid)
            {
                if (largest is not null && stopBefore(builder) &&
                    !InternalKey.UserKey(it.Key).SequenceEqual(InternalKey.UserKey(largest)))
                {
                    exhausted = false;
                    break;
                }
                var key = it.Key;
                builder.Add(key, it.Value);
                smallest ??= key.ToArray();
                largest = key.ToArray();
                ulong seq = InternalKey.Sequence(key);
                minSeq = Math.Min(minSeq, seq);
                maxSeq = Math.Max(maxSeq, seq);
                it.Next();
            }
            size = builder.Finish();
            file.Sync();
        }
        if (smallest is null)
        {
            _fs.Delete(path);
            return null;
        }
        return new FileMetadata(number, size, smallest, largest!, minSeq, maxSeq);
    }

    private TableOptions TableOptions => new(_options.BlockSize, _options.BlockRestartInterval, _options.BloomFalsePositiveRate, _options.BloomHashFunctions);

    /// <summary>L0, unless the table overlaps nothing at L0/L1 and no compaction could be writing the levels it would land in.</summary>
    private int PickLevelForFlush(FileMetadata table)
    {
        var version = _versions.Current;
        if (_compactionInFlight)
            return 0;
        var begin = InternalKey.UserKey(table.Smallest);
        var end = InternalKey.UserKey(table.Largest);
        if (version.Overlapping(0, begin, end, false, false).Count > 0)
            return 0;
        int level = 0;
        while (level < MaxFlushPushLevel && level + 1 < version.NumLevels &&
               version.Overlapping(level + 1, begin, end, false, false).Count == 0)
        {
            if (level + 2 < version.NumLevels &&
                version.Overlapping(level + 2, begin, end, false, false).Sum(f => f.Size) > 10 * _options.TargetFileSizeBytes)
                break;
            level++;
        }
        return level;
    }

    /// <summary>
    /// Picks (with <paramref name="manual"/> when given) and runs one compaction. Caller holds _compactionMutex.
    /// Returns the bytes of the tables written, or null when there was nothing to do.
    /// </summary>
    private long? RunOneCompaction(Func<Version, CompactionPlan?>? manual, CancellationToken token)
    {
        CompactionPlan? plan;
        Version version;
        lock (_versionLock)
        {
            // Picked under the version lock together with setting _compactionInFlight, so a concurrent
            // flush cannot push a table into a level this compaction is about to write.
            plan = manual is not null
                ? manual(_versions.Current)
                : CompactionPicker.Pick(_versions.Current, _options, _versions.CompactPointers, new HashSet<ulong>());
            if (plan is null)
                return null;
            _compactionInFlight = true;
            version = _versions.Current;
            version.Ref();
        }
        long written;
        try
        {
            IReadOnlyList<FileMetadata> outputs = plan.IsTrivialMove ? [] : MergeInputs(plan, version, token);
            ApplyCompaction(plan, outputs);
            written = outputs.Sum(f => f.Size);
            Interlocked.Increment(ref _counters.Compactions);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            SetBackgroundError(e);
            throw;
        }
        finally
        {
            lock (_versionLock) _compactionInFlight = false;
            version.Unref();
        }
        DeleteObsoleteFiles();
        lock (_stateLock) Monitor.PulseAll(_stateLock); // L0 may have shrunk: stalled writers re-check
        return written;
    }

    private void ApplyCompaction(CompactionPlan plan, IReadOnlyList<FileMetadata> outputs)
    {
        try
        {
            lock (_versionLock)
            {
                var edit = new VersionEdit();
                foreach (var f in plan.Inputs)
                    edit.DeletedFiles.Add((plan.Level, f.Number));
                foreach (var f in plan.Overlaps)
                    edit.DeletedFiles.Add((plan.OutputLevel, f.Number));
                if (plan.IsTrivialMove)
                    edit.NewFiles.Add((plan.OutputLevel, plan.Inputs[0]));
                foreach (var f in outputs)
                    edit.NewFiles.Add((plan.OutputLevel, f));
                edit.CompactPointers.Add((plan.Level, plan.Inputs.Select(f => f.Largest).Aggregate((a, b) => InternalKey.Compare(a, b) >= 0 ? a : b)));
                var version = _versions.LogAndApply(edit);
                lock (_stateLock)
                {
                    _versions.Install(version);
                    InstallSuperVersion();
                }
            }
        }
        finally
        {
            lock (_pendingOutputs)
                foreach (var f in outputs)
                    _pendingOutputs.Remove(f.Number);
        }
    }

    /// <summary>
    /// Merges the plan's inputs into new tables for the output level. An entry is dropped when no
    /// snapshot can see it: (1) a newer entry of the same user key is visible at the oldest snapshot, or
    /// (2) it is a deletion visible at the oldest snapshot and no deeper level may hold the key.
    /// </summary>
    private List<FileMetadata> MergeInputs(CompactionPlan plan, Version version, CancellationToken token)
    {
        ulong oldestSnapshot = OldestSnapshotSequence();
        var children = new List<IInternalIterator>();
        if (plan.Level == 0)
            children.AddRange(plan.Inputs.Select(_tables.NewIterator));
        else
            children.Add(new LevelIterator(plan.Inputs, _tables.NewIterator));
        if (plan.Overlaps.Count > 0)
            children.Add(new LevelIterator(plan.Overlaps, _tables.NewIterator));
        long inputBytes = plan.AllInputs.Sum(f => f.Size);
        Interlocked.Add(ref _counters.CompactionBytesRead, inputBytes);

        var outputs = new List<FileMetadata>();
        try
        {
            using var merged = new MergingIterator(children.ToArray());
            using var filtered = new CompactionFilterIterator(merged, oldestSnapshot, key => version.HasDataBelow(plan.OutputLevel, key), token);
            filtered.SeekToFirst();
            while (filtered.Valid)
            {
                ulong number = NewPendingFileNumber();
                var table = WriteTable(number, filtered, b => b.EstimatedFileSize >= _options.TargetFileSizeBytes, out _);
                if (table is null)
                {
                    lock (_pendingOutputs) _pendingOutputs.Remove(number);
                    break;
                }
                outputs.Add(table);
                Interlocked.Add(ref _counters.CompactionBytesWritten, table.Size);
            }
            return outputs;
        }
        catch
        {
            lock (_pendingOutputs)
                foreach (var f in outputs)
                    _pendingOutputs.Remove(f.Number);
            throw;
        }
    }

    /// <summary>
    /// Compacts every table overlapping [<paramref name="start"/>, <paramref name="end"/>] (null = open) down
    /// to the deepest level that holds data, after flushing the memtable. Blocks until done.
    /// </summary>
    public void CompactRange(byte[]? start = null, byte[]? end = null)
    {
        ThrowIfDisposed();
        FlushInternal(wait: true);
        int deepest;
        lock (_versionLock)
        {
            var levels = _versions.Current.Levels;
            deepest = 0;
            for (int l = 0; l < levels.Length; l++)
                if (levels[l].Length > 0)
                    deepest = l;
        }
        for (int level = 0; level < deepest; level++)
        {
            _compactionMutex.Wait();
            try
            {
                int source = level;
                RunOneCompaction(v => CompactionPicker.PickRange(v, source, start, end), _closing.Token);
            }
            finally
            {
                _compactionMutex.Release();
            }
        }
        ThrowIfBackgroundError();
    }

    /// <summary>Deletes tables no live version lists, WAL files older than the log number, stale manifests and temp files.</summary>
    private void DeleteObsoleteFiles()
    {
        lock (_versionLock)
        {
            // List first, then collect what is live: a table's number is pending from before its file
            // exists until it is installed (under this lock), so any table in the listing is either still
            // pending or live by now. Collecting first would miss a table created in between and delete it.
            var names = _fs.ListFiles(_directory);
            var live = _versions.LiveTableNumbers();
            lock (_pendingOutputs)
                live.UnionWith(_pendingOutputs);
            foreach (var name in names)
            {
                if (!TryParseFileName(name, out ulong number, out var type))
                    continue;
                bool keep = type switch
                {
                    FileType.Table => live.Contains(number),
                    FileType.Wal => number >= _versions.LogNumber,
                    FileType.Manifest => number == _versions.ManifestNumber,
                    FileType.Temp => false,
                    _ => true,
                };
                if (keep)
                    continue;
                if (type == FileType.Table)
                    _tables.Evict(number);
                _fs.Delete(Path.Combine(_directory, name));
            }
        }
    }

    private enum FileType { Table, Wal, Manifest, Temp }

    private static bool TryParseFileName(string name, out ulong number, out FileType type)
    {
        type = default;
        number = 0;
        if (name.StartsWith("MANIFEST-", StringComparison.Ordinal))
        {
            type = FileType.Manifest;
            return ulong.TryParse(name.AsSpan("MANIFEST-".Length), out number);
        }
        int dot = name.IndexOf('.');
        if (dot <= 0 || !ulong.TryParse(name.AsSpan(0, dot), out number))
            return false;
        switch (name[(dot + 1)..])
        {
            case "sst": type = FileType.Table; return true;
            case "log": type = FileType.Wal; return true;
            case "dbtmp": type = FileType.Temp; return true;
            default: return false;
        }
    }
}
