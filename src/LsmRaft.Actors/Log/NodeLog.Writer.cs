using LsmRaft.Raft;

namespace LsmRaft.Actors.Log;

/// <summary>The writer thread: group commit, segment rotation, applying durable records, deleting dead segments.</summary>
internal sealed partial class NodeLog
{
    /// <summary>
    /// Starts the writer on a thread of its own: it blocks in write and fsync calls for most of its life, and on
    /// the thread pool those blocked threads would starve the actors (a 2-core machine starts with 2 pool threads).
    /// </summary>
    private void StartWriter()
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _writer = done.Task;
        var thread = new Thread(() =>
        {
            try
            {
                RunWriter();
                done.TrySetResult();
            }
            catch (Exception ex)
            {
                done.TrySetException(ex);
            }
        })
        {
            IsBackground = true,
            Name = $"node-log-writer {_directory}",
        };
        thread.Start();
    }

    /// <summary>
    /// Waits on the writer thread until a request is queued; false once the queue is completed and drained. Parks
    /// on a monitor rather than blocking on the channel's wait task: a blocking task wait spins (yielding the CPU in
    /// a loop) before it sleeps, and with one writer per node log on a small machine that spinning took CPU from
    /// the actors (measured: ~6% of samples with three logs on 2 cores).
    /// Wake-up protocol (no lost wake-ups): the writer publishes <see cref="_writerParked"/>, then re-checks the
    /// queue before it waits; a submitter queues, then reads the flag (full fences on both sides), and pulses under
    /// the gate, which it can only take once the writer waits or has left. So either the writer sees the request
    /// or the submitter sees the flag.
    /// </summary>
    private bool WaitToRead(System.Threading.Channels.ChannelReader<Request> reader)
    {
        while (true)
        {
            if (reader.TryPeek(out _))
                return true;
            if (reader.Completion.IsCompleted)
                return false;
            lock (_wakeGate)
            {
                Volatile.Write(ref _writerParked, 1);
                Interlocked.MemoryBarrier();
                if (!reader.TryPeek(out _) && !reader.Completion.IsCompleted)
                    Monitor.Wait(_wakeGate);
                Volatile.Write(ref _writerParked, 0);
            }
        }
    }

    /// <summary>Called after queueing a request or completing the queue: wakes the writer if it is parked.</summary>
    private void WakeWriter()
    {
        Interlocked.MemoryBarrier();
        if (Volatile.Read(ref _writerParked) == 0)
            return;
        lock (_wakeGate)
            Monitor.Pulse(_wakeGate);
    }

    private void RunWriter()
    {
        var reader = _requests.Reader;
        var batch = new List<Request>();
        while (WaitToRead(reader))
        {
            batch.Clear();
            long bytes = 0;
            while ((batch.Count == 0 || bytes < _options.MaxBatchBytes) && reader.TryRead(out var request))
            {
                if (!request.TryTake())
                    continue; // cancelled while queued
                batch.Add(request);
                bytes += request.Bytes;
            }
            if (batch.Count == 0)
                continue;
            if (_failure is not null)
            {
                foreach (var request in batch)
                    request.Complete(new IOException("The node log failed earlier and accepts no more writes; reopen it.", _failure));
                continue;
            }
            Interlocked.Increment(ref _batchCount);
            Interlocked.Add(ref _batchRequests, batch.Count);
            long started = System.Diagnostics.Stopwatch.GetTimestamp();
            try
            {
                WriteBatch(batch);
                _options.Metrics?.BatchWritten(batch.Count, bytes, started);
            }
            catch (Exception ex)
            {
                _failure = ex;
                foreach (var request in batch)
                    request.Complete(ex);
            }
        }
    }

    /// <summary>
    /// Encodes every valid request of the batch, writes them with one append and one sync, publishes them
    /// to readers, then completes the callers. Requests are validated in order against the durable state
    /// plus the effect of earlier requests in the same batch.
    /// </summary>
    private void WriteBatch(List<Request> batch)
    {
        _batch.Reset();
        var records = new List<LogRecord>();
        var bounds = new Dictionary<ulong, (ulong Compacted, ulong Last)>();
        var accepted = new List<Request>(batch.Count);
        bool reshaped = false;
        foreach (var request in batch)
        {
            if (!bounds.TryGetValue(request.Group, out var b))
            {
                lock (_gate)
                {
                    var group = _groups.GetValueOrDefault(request.Group);
                    b = (group?.Compacted ?? 0, group?.LastIndex ?? 0);
                }
            }
            if (request.Forget)
            {
                records.Add(_batch.AddForget(request.Group));
                b = (0, 0);
                reshaped = true;
            }
            else if (request.ResetTerm is { } resetTerm)
            {
                // Drop the whole suffix (it may conflict with the snapshot), then restart after it.
                if (b.Last > b.Compacted)
                    records.Add(_batch.AddTruncate(request.Group, b.Compacted + 1));
                records.Add(_batch.AddCompact(request.Group, request.CompactThrough, resetTerm));
                b = (request.CompactThrough, request.CompactThrough);
                reshaped = true;
            }
            else if (request.CompactThrough > 0)
            {
                if (request.CompactThrough > b.Compacted)
                {
                    records.Add(_batch.AddCompact(request.Group, request.CompactThrough, Term(request.Group, request.CompactThrough) ?? 0));
                    b = (request.CompactThrough, Math.Max(b.Last, request.CompactThrough));
                    reshaped = true;
                }
            }
            else if (request.Entries.Count > 0)
            {
                ulong first = request.Entries[0].Index;
                if (first <= b.Compacted || first > b.Last + 1)
                {
                    request.Complete(new ArgumentException(
                        $"Group {request.Group}: entries starting at {first} do not fit a log with first index {b.Compacted + 1} and last index {b.Last}."));
                    continue;
                }
                if (first <= b.Last)
                {
                    records.Add(_batch.AddTruncate(request.Group, first));
                    reshaped = true;
                }
                records.Add(_batch.AddEntries(request.Group, request.Entries));
                b = (b.Compacted, request.Entries[^1].Index);
            }
            if (request.HardState is { } hardState)
                records.Add(_batch.AddHardState(request.Group, hardState));
            bounds[request.Group] = b;
            accepted.Add(request);
        }
        WriteRecords(records);
        // Before completing: a caller that compacted can rely on the dead segments being gone.
        if (reshaped)
            DeleteDeadSegments();
        foreach (var request in accepted)
            request.Complete(null);
    }

    /// <summary>Appends the encoded batch to the active segment (rotating first if it would overflow), syncs, then applies.</summary>
    private void WriteRecords(List<LogRecord> records)
    {
        if (_batch.Length == 0)
            return;
        if (_active!.Length + _batch.Length > _options.SegmentSize && _active.Length > RaftLogFormat.HeaderSize)
        {
            // The finished segment must be durable before a later one can hold newer records.
            _active.Sync();
            Interlocked.Increment(ref _syncCount);
            _active.Dispose();
            _active = null;
            StartSegment(_activeNumber + 1);
        }
        long baseOffset = _active!.Length;
        _active.Append(_batch.Written);
        if (_options.SyncWrites)
        {
            long started = System.Diagnostics.Stopwatch.GetTimestamp();
            _active.Sync();
            long elapsed = System.Diagnostics.Stopwatch.GetTimestamp() - started;
            Interlocked.Add(ref _syncTicks, elapsed);
            _options.Metrics?.Fsynced(elapsed);
            Interlocked.Increment(ref _syncCount);
        }
        else
        {
            _active.Flush();
        }
        lock (_gate)
        {
            foreach (var record in records)
                Apply(record, _activeNumber, baseOffset);
        }
    }

    private void StartSegment(long number)
    {
        var file = _fs.Create(SegmentPath(number));
        Span<byte> header = stackalloc byte[RaftLogFormat.HeaderSize];
        RaftLogFormat.WriteHeader(header);
        file.Append(header);
        file.Sync();
        Interlocked.Increment(ref _syncCount);
        _fs.SyncDirectory(_directory);
        _active = file;
        _activeNumber = number;
        lock (_gate) _segments.Add(number);
    }

    /// <summary>
    /// Deletes the oldest segments that hold no live entry of any group. Only a prefix of segments is ever
    /// deleted: a Truncate record is then never deleted while the entries it dropped survive in an older
    /// segment. Hard states and compaction points whose latest record would be deleted are first re-logged
    /// (and synced) in the active segment, so replay still finds them.
    /// </summary>
    private void DeleteDeadSegments()
    {
        long minLive = _activeNumber;
        long[] dead;
        _batch.Reset();
        var records = new List<LogRecord>();
        lock (_gate)
        {
            foreach (var group in _groups.Values)
                if (group.Entries.Count > 0)
                    minLive = Math.Min(minLive, group.Entries[0].Segment);
            dead = _segments.Where(n => n < minLive).ToArray();
            if (dead.Length == 0)
                return;
            foreach (var (id, group) in _groups)
            {
                if (group.HardStateSegment >= 0 && group.HardStateSegment < minLive)
                    records.Add(_batch.AddHardState(id, group.HardState));
                if (group.Compacted > 0 && group.CompactSegment < minLive)
                    records.Add(_batch.AddCompact(id, group.Compacted, group.CompactedTerm));
            }
        }
        WriteRecords(records);
        foreach (long number in dead)
        {
            lock (_gate)
            {
                _segments.Remove(number);
                if (_readers.Remove(number, out var reader))
                    reader.Dispose();
            }
            _fs.Delete(SegmentPath(number));
        }
        _fs.SyncDirectory(_directory);
    }

    /// <summary>Applies one durable record to the in-memory state. Shared by the writer and by recovery. Call under the gate.</summary>
    private void Apply(LogRecord record, long segment, long baseOffset)
    {
        if (!_groups.TryGetValue(record.Group, out var group))
        {
            group = new GroupState();
            _groups.Add(record.Group, group);
        }
        switch (record.Type)
        {
            case RecordType.Entries:
                // The writer only appends at LastIndex + 1 (after an explicit Truncate). Recovery may also meet
                // stale entries whose predecessors lived in deleted segments and which a later Truncate
                // drops; a record that does not continue the current list therefore starts a new one.
                if (record.Index > group.LastIndex + 1 || record.Index < group.Start)
                    Truncate(group, 0);
                else
                    Truncate(group, record.Index);
                if (group.Entries.Count == 0)
                    group.Start = Math.Max(record.Index, group.Compacted + 1);
                for (int i = 0; i < record.Locations.Count; i++)
                {
                    ulong index = record.Index + (ulong)i;
                    if (index < group.Start)
                        continue;
                    var (term, offset, length) = record.Locations[i];
                    group.Entries.Add(new Location(segment, baseOffset + offset, length, term));
                    if (record.Entries is { } entries)
                        AddToCache(group, index, entries[i]);
                }
                break;
            case RecordType.Truncate:
                Truncate(group, record.Index);
                break;
            case RecordType.HardState:
                group.HardState = record.HardState;
                group.HardStateSegment = segment;
                break;
            case RecordType.Forget:
                // Term and vote stay (a node never votes twice in a term); commit goes with the log. A later
                // re-log of the hard state (before its segment is deleted) writes it as it is now.
                group.HardState = group.HardState with { Commit = 0 };
                group.Entries.Clear();
                group.Cache.Clear();
                group.Compacted = 0;
                group.CompactedTerm = 0;
                group.CompactSegment = -1;
                group.Start = 1;
                break;
            case RecordType.Compact:
                group.CompactSegment = segment;
                if (record.Index <= group.Compacted)
                    break;
                int drop = record.Index < group.Start ? 0 : (int)Math.Min((ulong)group.Entries.Count, record.Index - group.Start + 1);
                group.Entries.RemoveRange(0, drop);
                foreach (ulong index in group.Cache.Keys.Where(k => k <= record.Index).ToArray())
                    group.Cache.Remove(index);
                group.Compacted = record.Index;
                group.CompactedTerm = record.Term;
                group.Start = group.Entries.Count == 0 ? record.Index + 1 : group.Start + (ulong)drop;
                break;
        }
    }

    /// <summary>Drops entries at and above <paramref name="fromIndex"/> (all of them for 0).</summary>
    private static void Truncate(GroupState group, ulong fromIndex)
    {
        if (group.Entries.Count == 0 || fromIndex > group.LastIndex)
            return;
        int keep = fromIndex <= group.Start ? 0 : (int)(fromIndex - group.Start);
        for (ulong index = group.Start + (ulong)keep; index <= group.LastIndex; index++)
            group.Cache.Remove(index);
        group.Entries.RemoveRange(keep, group.Entries.Count - keep);
        if (group.Entries.Count == 0)
            group.Start = group.Compacted + 1;
    }

    /// <summary>FIFO cache of recently written entries, bounded by <see cref="NodeLogOptions.CacheBytes"/>. Call under the gate.</summary>
    private void AddToCache(GroupState group, ulong index, Entry entry)
    {
        if (_options.CacheBytes == 0)
            return;
        group.Cache[index] = entry;
        _cacheOrder.Enqueue((group, index, entry));
        _cacheBytes += entry.Data.Length + RaftLogFormat.EntryHeaderSize;
        while (_cacheBytes > _options.CacheBytes && _cacheOrder.TryDequeue(out var old))
        {
            _cacheBytes -= old.Entry.Data.Length + RaftLogFormat.EntryHeaderSize;
            if (old.Group.Cache.TryGetValue(old.Index, out var current) && ReferenceEquals(current, old.Entry))
                old.Group.Cache.Remove(old.Index);
        }
    }
}
