using Akka.Actor;
using LsmRaft.Raft;
using LsmRaft.Storage;
using LsmRaft.Storage.IO;

namespace LsmRaft.Actors.Replica;

/// <summary>A proposal waiting for its entry to be applied: answered when the entry at <see cref="Index"/> is applied with <see cref="Term"/>.</summary>
internal sealed record ProposalWaiter(ulong Index, ulong Term, ReplyTo<ProposeOutcome> Reply);

/// <summary>Messages a <see cref="StorageActor"/> handles; local only (reply handles), exempt from serialize-messages.</summary>
internal abstract record StorageMessage : INoSerializationVerificationNeeded
{
    /// <summary>Committed entries in index order, the proposals waiting on them, and the configuration after each conf change.</summary>
    public sealed record Apply(IReadOnlyList<Entry> Entries, IReadOnlyList<ProposalWaiter> Waiters, IReadOnlyDictionary<ulong, ConfState> ConfStates) : StorageMessage;

    /// <summary>Answers <see cref="Query"/> once the applied index reaches <see cref="MinIndex"/>.</summary>
    public sealed record Read(ReadQuery Query, ulong MinIndex, ReplyTo<ReadOutcome> Reply) : StorageMessage;

    /// <summary>Replaces the engine with a snapshot staged in <see cref="StagedDirectory"/>.</summary>
    /// <remarks>Answered with <see cref="ReplicaMessage.SnapshotInstalled"/> to the replica.</remarks>
    public sealed record Install(RaftSnapshot Snapshot, string StagedDirectory) : StorageMessage;

    /// <summary>Takes a checkpoint at the current applied index now (also taken automatically every <see cref="ReplicaOptions.SnapshotInterval"/> entries).</summary>
    public sealed record TakeSnapshot : StorageMessage
    {
        public static readonly TakeSnapshot Instance = new();
    }
}

/// <summary>
/// The child of a <see cref="ReplicaActor"/> that owns the replica's <see cref="LsmEngine"/>: applies
/// committed entries through <see cref="KvStateMachine"/> (answering the proposals that wait on them),
/// serves reads once the applied index reaches the read index, takes checkpoints as Raft snapshots
/// and installs snapshots received from a leader. Flush and compaction stay the engine's own pipelines.
/// </summary>
internal sealed class StorageActor : UntypedActor, IWithTimers, IWithUnboundedStash
{
    private const string OpenTimer = "open";

    private readonly ReplicaOptions _options;
    private readonly IActorRef _replica;
    private readonly SortedDictionary<ulong, List<StorageMessage.Read>> _pendingReads = new();
    private LsmEngine? _engine;
    private KvStateMachine? _machine;
    private ConfState _conf;
    private ulong _lastSnapshotIndex;
    private ulong _appliedTerm;
    private StorageMessage.Apply? _applying;

    private readonly RestartBackoff _restarts;

    public StorageActor(ReplicaOptions options, IActorRef replica, ConfState initialConf, RestartBackoff restarts)
    {
        _options = options;
        _replica = replica;
        _conf = initialConf;
        _restarts = restarts;
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public IStash Stash { get; set; } = null!;

    /// <summary>The storage child of <paramref name="replica"/>, on <see cref="ReplicaDispatcher"/>; <paramref name="restarts"/> outlives its incarnations.</summary>
    public static Props Props(ReplicaOptions options, IActorRef replica, ConfState initialConf, RestartBackoff restarts) =>
        Akka.Actor.Props.Create<StorageActor>(options, replica, initialConf, restarts).WithDispatcher(ReplicaDispatcher.Id);

    private IFileSystem Fs => _options.EngineOptions.FileSystem;

    /// <summary>Opens at once; the engine opens in a message so that a failure to open is supervised like any other.</summary>
    protected override void PreStart() => Self.Tell(Open.Instance);

    /// <summary>After a failure: open again once the backoff has passed (messages wait in the stash), or stop for good past the limit.</summary>
    protected override void PostRestart(Exception reason)
    {
        if (!_restarts.TryRestart(Context.System.Scheduler.Now, out var delay))
        {
            Context.Stop(Self);
            return;
        }
        Timers.StartSingleTimer(OpenTimer, Open.Instance, delay);
    }

    /// <summary>Opens the engine (at the applied index its manifest records); until then every message waits in the stash.</summary>
    private void OpenStorage()
    {
        OpenEngine();
        var latest = SnapshotFiles.Latest(Fs, _options.Directory);
        if (latest is { } snapshot)
        {
            _lastSnapshotIndex = snapshot.Meta.Index;
            if (_machine!.AppliedIndex <= snapshot.Meta.Index)
                _conf = snapshot.Meta.ConfState;
        }
        _options.HealthObserver?.StorageOpened(_options.GroupId);
        Stash.UnstashAll();
    }

    protected override void PostStop()
    {
        _options.EngineChanged?.Invoke(_options.GroupId, null);
        _engine?.Dispose();
        _engine = null;
        foreach (var reads in _pendingReads.Values)
            foreach (var read in reads)
                read.Reply.Fail(new OperationCanceledException("The replica stopped before the read index was applied."));
        _pendingReads.Clear();
    }

    protected override void OnReceive(object message)
    {
        if (_machine is null)
        {
            if (message is Open)
                OpenStorage();
            else
                Stash.Stash();
            return;
        }
        switch (message)
        {
            case StorageMessage.Apply apply:
                ApplyEntries(apply);
                break;
            case StorageMessage.Read read:
                if (_machine!.AppliedIndex >= read.MinIndex)
                    Serve(read);
                else
                    (_pendingReads.TryGetValue(read.MinIndex, out var list) ? list : _pendingReads[read.MinIndex] = new()).Add(read);
                break;
            case StorageMessage.Install install:
                _replica.Tell(new ReplicaMessage.SnapshotInstalled(install.Snapshot.Index, InstallSnapshot(install)));
                break;
            case StorageMessage.TakeSnapshot:
                TakeSnapshot();
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    /// <summary>Open the engine now (first start, or after a restart's backoff).</summary>
    private sealed class Open : INoSerializationVerificationNeeded
    {
        public static readonly Open Instance = new();
    }

    /// <summary>The engine, for status and statistics (thread-safe reads).</summary>
    internal LsmEngine? Engine => _engine;

    private void OpenEngine()
    {
        string dir = SnapshotFiles.EngineDirectory(_options.Directory);
        _engine = LsmEngine.Open(dir, _options.EngineOptions with { EnableWal = false });
        _machine = new KvStateMachine(_engine, _options.InitialRange, new SplitChildCreator(_options, MembersAt));
        _options.EngineChanged?.Invoke(_options.GroupId, _engine);
    }

    private void ApplyEntries(StorageMessage.Apply apply)
    {
        var machine = _machine!;
        // Entries at or below the applied index were replayed after a restart: the engine holds their effect.
        int skip = 0;
        while (skip < apply.Entries.Count && apply.Entries[skip].Index <= machine.AppliedIndex)
            skip++;
        // Their configurations still count: a snapshot taken later must carry the membership as of its index.
        for (int i = 0; i < skip; i++)
            if (apply.ConfStates.TryGetValue(apply.Entries[i].Index, out var replayed))
                _conf = replayed;
        var entries = skip == 0 ? apply.Entries : apply.Entries.Skip(skip).ToArray();
        _applying = apply;
        var results = machine.ApplyAll(entries);
        _applying = null;
        int waiter = 0;
        for (int i = 0; i < entries.Count; i++)
        {
            var entry = entries[i];
            _appliedTerm = entry.Term;
            if (apply.ConfStates.TryGetValue(entry.Index, out var conf))
                _conf = conf;
            if (results[i] is ApplyResult.Split split)
                _options.SplitApplied?.Invoke(split);
            while (waiter < apply.Waiters.Count && apply.Waiters[waiter].Index <= entry.Index)
            {
                var w = apply.Waiters[waiter++];
                if (w.Index == entry.Index && w.Term == entry.Term)
                    w.Reply.Reply(new ProposeOutcome.Committed(entry.Index, results[i]));
                else
                    w.Reply.Reply(new ProposeOutcome.NotLeader(0)); // its entry was replaced by a newer leader's
            }
        }
        for (; waiter < apply.Waiters.Count; waiter++)
            apply.Waiters[waiter].Reply.Reply(new ProposeOutcome.NotLeader(0));

        while (_pendingReads.Count > 0)
        {
            var first = _pendingReads.First();
            if (first.Key > machine.AppliedIndex)
                break;
            _pendingReads.Remove(first.Key);
            foreach (var read in first.Value)
                Serve(read);
        }
        _replica.Tell(new ReplicaMessage.Applied(machine.AppliedIndex));
        if (machine.AppliedIndex - _lastSnapshotIndex >= _options.SnapshotInterval)
            TakeSnapshot();
    }

    /// <summary>The group's membership in effect just before entry <paramref name="index"/> of the batch being applied.</summary>
    private ConfState MembersAt(ulong index)
    {
        var conf = _conf;
        if (_applying is { } apply)
            foreach (var (at, state) in apply.ConfStates.OrderBy(c => c.Key))
                if (at < index)
                    conf = state;
        return conf;
    }

    private void Serve(StorageMessage.Read read)
    {
        var machine = _machine!;
        switch (read.Query)
        {
            case ReadQuery.Point point when !machine.Owns(point.Key):
            case ReadQuery.Range range when range.Epoch != 0 && range.Epoch != machine.Descriptor.Epoch:
                read.Reply.Reply(new ReadOutcome.WrongShard(machine.Descriptor));
                break;
            case ReadQuery.Point point:
                {
                    var found = machine.Get(point.Key);
                    read.Reply.Reply(new ReadOutcome.Value(found?.Value, found?.Version ?? 0, machine.AppliedIndex));
                    break;
                }
            case ReadQuery.Range range:
                {
                    var items = new List<(byte[], byte[], ulong)>();
                    // The shard descriptor lives under the empty key, which sorts first: skip it.
                    foreach (var kv in machine.Engine.Scan(range.Start is { Length: > 0 } ? range.Start : [0], range.End, range.Limit))
                    {
                        var (value, version) = KvStateMachine.Decode(kv.Value);
                        items.Add((kv.Key, value, version));
                    }
                    read.Reply.Reply(new ReadOutcome.Entries(items, machine.AppliedIndex));
                    break;
                }
        }
    }

    /// <summary>Checkpoints the engine at the applied index and tells the replica, which then compacts its log.</summary>
    private void TakeSnapshot()
    {
        var machine = _machine!;
        ulong index = machine.AppliedIndex;
        if (index == 0 || index <= _lastSnapshotIndex)
            return;
        var meta = new SnapshotMetadata(index, _appliedTerm, _conf);
        WriteLocalSnapshot(meta);
        _replica.Tell(new ReplicaMessage.SnapshotTaken(new RaftSnapshot(meta, SnapshotFiles.EncodeData(index))));
    }

    private bool InstallSnapshot(StorageMessage.Install install)
    {
        var meta = install.Snapshot.Metadata;
        if (meta.Index <= _machine!.AppliedIndex)
            return false;
        _options.EngineChanged?.Invoke(_options.GroupId, null);
        _engine!.Dispose();
        _engine = null;
        string engineDir = SnapshotFiles.EngineDirectory(_options.Directory);
        Fs.DeleteDirectory(engineDir);
        Fs.CreateDirectory(engineDir);
        foreach (var name in Fs.ListFiles(install.StagedDirectory))
        {
            if (name == SnapshotFiles.MetaFileName)
                continue;
            Fs.Rename(Path.Combine(install.StagedDirectory, name), Path.Combine(engineDir, name));
        }
        Fs.SyncDirectory(engineDir);
        OpenEngine();
        if (_machine.AppliedIndex != meta.Index)
            throw new InvalidOperationException($"Installed snapshot reports applied index {_machine.AppliedIndex}, expected {meta.Index}.");

        // Keep the installed state as this replica's latest local snapshot too, so it can serve it onward.
        _conf = meta.ConfState;
        _appliedTerm = meta.Term;
        WriteLocalSnapshot(meta);
        Fs.DeleteDirectory(Path.GetDirectoryName(install.StagedDirectory)!);
        return true;
    }

    /// <summary>
    /// Checkpoints the engine (at <paramref name="meta"/>'s index, which must be the applied index) as the
    /// replica's one local snapshot, <c>snapshots/&lt;index&gt;/</c> with its SNAPSHOT file; older ones are removed.
    /// </summary>
    private void WriteLocalSnapshot(SnapshotMetadata meta)
    {
        string root = SnapshotFiles.SnapshotsDirectory(_options.Directory);
        string dir = Path.Combine(root, meta.Index.ToString());
        Fs.CreateDirectory(root);
        Fs.DeleteDirectory(dir);
        long checkpointIndex = _engine!.CreateCheckpoint(dir);
        if (checkpointIndex != (long)meta.Index)
            throw new InvalidOperationException($"Checkpoint recorded applied index {checkpointIndex}, expected {meta.Index}.");
        SnapshotFiles.WriteMeta(Fs, dir, meta);
        foreach (var name in Fs.ListDirectories(root))
            if (name != meta.Index.ToString())
                Fs.DeleteDirectory(Path.Combine(root, name));
        _lastSnapshotIndex = meta.Index;
    }
}
