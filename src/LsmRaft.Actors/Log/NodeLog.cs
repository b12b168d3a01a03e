using System.Threading.Channels;
using LsmRaft.Raft;
using LsmRaft.Storage.IO;

namespace LsmRaft.Actors.Log;

/// <summary>
/// The node-wide durable Raft log, shared by every Raft group on the node (format: docs/formats/raft-log.md).
/// Appends from all groups go through one writer task that batches everything pending into one write and
/// one fsync (group commit); a caller's task completes only once its records are durable, and only then do
/// readers see them. Reads are served from an in-memory index (and a cache of recent entries).
/// After a write or sync fails the log refuses further appends: what reached the disk is unknown until reopen.
/// </summary>
internal sealed partial class NodeLog : IAsyncDisposable, IDisposable
{
    private const string LockName = "LOCK";

    private readonly IFileSystem _fs;
    private readonly string _directory;
    private readonly NodeLogOptions _options;
    private readonly IDisposable _lock;
    private readonly Channel<Request> _requests = Channel.CreateUnbounded<Request>(new UnboundedChannelOptions { SingleReader = true });

    /// <summary>The writer thread parks on this gate when the queue is empty (see <see cref="WaitToRead"/>).</summary>
    private readonly object _wakeGate = new();

    /// <summary>1 while the writer is parked or about to park on <see cref="_wakeGate"/>.</summary>
    private int _writerParked;

    // Guarded by _gate: the durable view that readers see.
    private readonly object _gate = new();
    private readonly Dictionary<ulong, GroupState> _groups = [];
    private readonly SortedSet<long> _segments = [];
    private readonly Dictionary<long, IRandomAccessFile> _readers = [];
    private readonly Queue<(GroupState Group, ulong Index, Entry Entry)> _cacheOrder = new();
    private long _cacheBytes;
    private bool _disposed;

    // Owned by the writer task (and by Open before the writer starts).
    private readonly RecordWriter _batch = new();
    private IWritableFile? _active;
    private long _activeNumber;
    private Exception? _failure;

    private Task _writer = Task.CompletedTask;
    private long _syncCount;
    private long _syncTicks;
    private long _batchCount;
    private long _batchRequests;

    private NodeLog(IFileSystem fs, string directory, NodeLogOptions options, IDisposable directoryLock)
    {
        _fs = fs;
        _directory = directory;
        _options = options;
        _lock = directoryLock;
    }

    /// <summary>fsyncs performed (batches, segment headers, rotations, recovery rewrites).</summary>
    public long SyncCount => Interlocked.Read(ref _syncCount);

    /// <summary>Time spent in the fsyncs of write batches, in <see cref="System.Diagnostics.Stopwatch"/> ticks (benchmarks divide by <see cref="BatchCount"/>).</summary>
    public long SyncTicks => Interlocked.Read(ref _syncTicks);

    /// <summary>Write batches made by the writer (each one append and, with SyncWrites, one fsync).</summary>
    public long BatchCount => Interlocked.Read(ref _batchCount);

    /// <summary>Requests those batches carried: group commit at work when this exceeds <see cref="BatchCount"/>.</summary>
    public long BatchRequests => Interlocked.Read(ref _batchRequests);

    public IReadOnlyCollection<ulong> Groups
    {
        get { lock (_gate) return _groups.Keys.ToArray(); }
    }

    /// <summary>Opens (creating if needed) the log in <paramref name="directory"/> and recovers its state.</summary>
    public static NodeLog Open(IFileSystem fs, string directory, NodeLogOptions options)
    {
        options.Validate();
        if (!fs.DirectoryExists(directory))
            fs.CreateDirectory(directory);
        var directoryLock = fs.Lock(PathOf(directory, LockName));
        var log = new NodeLog(fs, directory, options, directoryLock);
        try
        {
            log.Recover();
            log.StartSegment(log._segments.Count == 0 ? 1 : log._segments.Max + 1);
            log.DeleteDeadSegments();
            log.StartWriter();
            return log;
        }
        catch
        {
            log.CloseFiles();
            throw;
        }
    }

    /// <summary>
    /// Appends <paramref name="entries"/> (contiguous indices) and/or a hard state for one group, durably.
    /// When entries[0].Index ≤ the group's last index, the old suffix from that index is dropped first
    /// (and the drop is recorded). Entries must start at most one past the last index and after the
    /// compacted prefix. Cancellation withdraws the request only if the writer has not taken it yet.
    /// </summary>
    public ValueTask AppendAsync(ulong groupId, IReadOnlyList<Entry> entries, HardState? hardState, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entries);
        for (int i = 1; i < entries.Count; i++)
            if (entries[i].Index != entries[0].Index + (ulong)i)
                throw new ArgumentException($"Entries must have contiguous indices; found {entries[i].Index} after {entries[i - 1].Index}.", nameof(entries));
        if (entries.Count > 0 && entries[0].Index == 0)
            throw new ArgumentException("Raft log indices start at 1.", nameof(entries));
        if (entries.Count == 0 && hardState is null)
            return default;
        long bytes = 0;
        foreach (var entry in entries)
            bytes += entry.Data.Length + RaftLogFormat.EntryHeaderSize;
        return Submit(new Request(groupId, entries, hardState, 0, bytes + 64), cancellationToken);
    }

    /// <summary>Records that entries ≤ <paramref name="throughIndex"/> are no longer needed by the group; segments nobody needs are deleted.</summary>
    public ValueTask CompactAsync(ulong groupId, ulong throughIndex, CancellationToken cancellationToken) =>
        throughIndex == 0 ? default : Submit(new Request(groupId, [], null, throughIndex, 64), cancellationToken);

    /// <summary>
    /// Restarts the group's log after a snapshot at <paramref name="index"/> with <paramref name="term"/> (a follower
    /// installing a leader's snapshot): every entry is dropped, FirstIndex becomes index + 1 and Term(index) = term.
    /// </summary>
    public ValueTask ResetAsync(ulong groupId, ulong index, ulong term, CancellationToken cancellationToken)
    {
        if (index == 0)
            throw new ArgumentOutOfRangeException(nameof(index), "A snapshot index is at least 1.");
        return Submit(new Request(groupId, [], null, index, 64) { ResetTerm = term }, cancellationToken);
    }

    /// <summary>
    /// Restarts the group's log from nothing, for a replica created again on a node that held the group before
    /// (a move back): entries and the compaction point are dropped, and the hard state keeps its term and vote
    /// (a node never votes twice in one term, whichever replica of the group it runs) with commit reset to 0.
    /// Only for a group with no running replica on this node. A group the log does not hold is left alone.
    /// </summary>
    public ValueTask ForgetAsync(ulong groupId, CancellationToken cancellationToken) =>
        Holds(groupId) ? Submit(new Request(groupId, [], null, 0, 64) { Forget = true }, cancellationToken) : default;

    /// <summary>True when the log holds anything of the group: entries, a compaction point or a hard state.</summary>
    public bool Holds(ulong groupId)
    {
        lock (_gate)
            return _groups.TryGetValue(groupId, out var group) && (group.LastIndex > 0 || !group.HardState.Equals(default(HardState)));
    }

    public ulong FirstIndex(ulong groupId)
    {
        lock (_gate) return (_groups.GetValueOrDefault(groupId)?.Compacted ?? 0) + 1;
    }

    /// <summary>The last index, or FirstIndex - 1 when the group holds no entries.</summary>
    public ulong LastIndex(ulong groupId)
    {
        lock (_gate) return _groups.GetValueOrDefault(groupId)?.LastIndex ?? 0;
    }

    /// <summary>Term of an entry; 0 for index 0; the compaction term at FirstIndex - 1 when known; otherwise null.</summary>
    public ulong? Term(ulong groupId, ulong index)
    {
        lock (_gate)
        {
            if (index == 0)
                return 0;
            var group = _groups.GetValueOrDefault(groupId);
            if (group is null)
                return null;
            if (index == group.Compacted)
                return group.CompactedTerm == 0 ? null : group.CompactedTerm;
            if (index < group.Compacted || index > group.LastIndex)
                return null;
            return group.Entries[(int)(index - group.Start)].Term;
        }
    }

    public HardState GetHardState(ulong groupId)
    {
        lock (_gate) return _groups.GetValueOrDefault(groupId)?.HardState ?? HardState.Empty;
    }

    /// <summary>
    /// Entries [lo, hiExclusive) of a group, stopping before the total encoded size would exceed
    /// <paramref name="maxBytes"/> (at least one entry is returned when the range is not empty).
    /// Throws <see cref="LogCompactedException"/> below FirstIndex and <see cref="ArgumentOutOfRangeException"/> past LastIndex + 1.
    /// </summary>
    public IReadOnlyList<Entry> ReadEntries(ulong groupId, ulong lo, ulong hiExclusive, long maxBytes = long.MaxValue)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var group = _groups.GetValueOrDefault(groupId);
            ulong compacted = group?.Compacted ?? 0, last = group?.LastIndex ?? 0;
            if (lo > hiExclusive)
                throw new ArgumentOutOfRangeException(nameof(lo), $"lo {lo} is above hiExclusive {hiExclusive}.");
            if (lo <= compacted)
                throw new LogCompactedException(groupId, lo, compacted + 1);
            if (hiExclusive > last + 1)
                throw new ArgumentOutOfRangeException(nameof(hiExclusive), $"Group {groupId}: hiExclusive {hiExclusive} is past last index {last} + 1.");
            var result = new List<Entry>();
            long bytes = 0;
            for (ulong index = lo; index < hiExclusive; index++)
            {
                var location = group!.Entries[(int)(index - group.Start)];
                if (result.Count > 0 && bytes + location.Length > maxBytes)
                    break;
                bytes += location.Length;
                result.Add(group.Cache.TryGetValue(index, out var cached) ? cached : ReadFromSegment(location, index));
            }
            return result;
        }
    }

    public void Dispose()
    {
        _requests.Writer.TryComplete();
        WakeWriter();
        _writer.GetAwaiter().GetResult();
        CloseFiles();
    }

    public async ValueTask DisposeAsync()
    {
        _requests.Writer.TryComplete();
        WakeWriter();
        await _writer.ConfigureAwait(false);
        CloseFiles();
    }

    private ValueTask Submit(Request request, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
            return ValueTask.FromCanceled(cancellationToken);
        if (_failure is { } failure)
            return ValueTask.FromException(new IOException("The node log failed earlier and accepts no more writes; reopen it.", failure));
        if (cancellationToken.CanBeCanceled)
            request.Registration = cancellationToken.Register(static (state, token) => ((Request)state!).TryCancel(token), request);
        if (!_requests.Writer.TryWrite(request))
            return ValueTask.FromException(new ObjectDisposedException(nameof(NodeLog)));
        WakeWriter();
        return new ValueTask(request.Completion.Task);
    }

    private Entry ReadFromSegment(Location location, ulong index)
    {
        if (!_readers.TryGetValue(location.Segment, out var reader))
        {
            reader = _fs.OpenRead(SegmentPath(location.Segment));
            _readers[location.Segment] = reader;
        }
        var buffer = new byte[location.Length];
        if (reader.Read(location.Offset, buffer) != buffer.Length)
            throw new LsmRaft.Storage.CorruptionException(SegmentPath(location.Segment), location.Offset, $"entry {index} is cut short");
        return RaftLogFormat.DecodeEntry(buffer, index, SegmentPath(location.Segment), location.Offset);
    }

    private void CloseFiles()
    {
        lock (_gate)
        {
            if (_disposed)
                return;
            _disposed = true;
            foreach (var reader in _readers.Values)
                reader.Dispose();
            _readers.Clear();
        }
        _active?.Dispose();
        _lock.Dispose();
    }

    private string SegmentPath(long number) => PathOf(_directory, RaftLogFormat.SegmentName(number));

    private static string PathOf(string directory, string name) => directory.Length == 0 ? name : directory.TrimEnd('/', '\\') + "/" + name;

    /// <summary>Where one entry's bytes live. Invariant: a group's locations are in index order and non-decreasing in segment.</summary>
    private readonly record struct Location(long Segment, long Offset, int Length, ulong Term);

    /// <summary>
    /// The durable state of one group. Entries[i] holds index Start + i. Invariant outside the replay
    /// loop: Start == Compacted + 1, so FirstIndex = Compacted + 1 and LastIndex = Compacted + Entries.Count.
    /// </summary>
    private sealed class GroupState
    {
        public ulong Compacted;
        public ulong Start = 1;
        public ulong CompactedTerm;
        public readonly List<Location> Entries = [];
        public readonly Dictionary<ulong, Entry> Cache = [];
        public HardState HardState;
        public long HardStateSegment = -1;
        public long CompactSegment = -1;

        public ulong LastIndex => Entries.Count == 0 ? Compacted : Start + (ulong)Entries.Count - 1;
    }

    /// <summary>An append (entries and/or hard state) or, when <see cref="CompactThrough"/> is non-zero, a compaction.</summary>
    private sealed class Request(ulong group, IReadOnlyList<Entry> entries, HardState? hardState, ulong compactThrough, long bytes)
    {
        private int _state; // 0 queued, 1 taken by the writer, 2 cancelled

        public ulong Group { get; } = group;
        public IReadOnlyList<Entry> Entries { get; } = entries;
        public HardState? HardState { get; } = hardState;
        public ulong CompactThrough { get; } = compactThrough;
        public long Bytes { get; } = bytes;

        /// <summary>The group's log restarts from nothing (<see cref="NodeLog.ForgetAsync"/>).</summary>
        public bool Forget { get; init; }

        /// <summary>With <see cref="CompactThrough"/>: the log restarts after a snapshot at CompactThrough with this term; entries after it are dropped too.</summary>
        public ulong? ResetTerm { get; init; }

        public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public CancellationTokenRegistration Registration { get; set; }

        public bool TryTake() => Interlocked.CompareExchange(ref _state, 1, 0) == 0;

        public void TryCancel(CancellationToken token)
        {
            if (Interlocked.CompareExchange(ref _state, 2, 0) == 0)
                Completion.TrySetCanceled(token);
        }

        public void Complete(Exception? error)
        {
            Registration.Dispose();
            if (error is null)
                Completion.TrySetResult();
            else
                Completion.TrySetException(error);
        }
    }
}
