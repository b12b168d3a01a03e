using System.Buffers.Binary;
using Akka.Actor;
using Akka.Event;
using LsmRaft.Protocol.Cluster;
using LsmRaft.Raft;

namespace LsmRaft.Actors.Replica;

/// <summary>
/// The Akka actor around one Raft group member: reads its mailbox (proposals, reads, peer messages, ticks),
/// steps the pure core, and drives its <see cref="ReplicaShell"/>, whose effects it supplies: entries and hard
/// state go to the replica log (the node log's group commit batches every group's appends into one fsync),
/// messages to the transport, committed entries to its child <see cref="StorageActor"/>.
/// </summary>
/// <remarks>
/// Batching: inputs only step the core; a single <see cref="ReplicaMessage.ProcessReady"/> queued behind
/// them drains the Ready, so proposals that arrive together share one persist and one append message.
/// Invariant: every proposal gets exactly one outcome — committed, NotLeader with a hint, or a rejection —
/// unless the asker's timeout fires first.
/// Supervision: the actor starts (and restarts) through a <see cref="ReplicaMessage.Start"/> message, so a
/// failure while opening counts like any other. A restart waits the <see cref="ReplicaMonitor.Backoff"/> delay
/// first (messages arriving meanwhile are stashed); past its restart limit the replica stops for good and its
/// monitor reports the failure. A storage actor failure stops the storage actor and fails the replica, which
/// restarts with a new one (one backoff for the pair).
/// </remarks>
internal sealed class ReplicaActor : UntypedActor, IWithTimers, IWithUnboundedStash, IReadyEffects
{
    private const string TickTimer = "tick";
    private const string StartTimer = "start";

    private readonly ReplicaOptions _options;
    private readonly IReplicaLog _log;
    private readonly IRaftTransport _transport;
    private readonly ReplicaMonitor _monitor;
    private readonly ProposalWaiters _waiters = new();
    private readonly Dictionary<ulong, PendingRead> _pendingReads = new();
    private readonly HashSet<ulong> _snapshotsInFlight = new();
    private readonly ILoggingAdapter _logger = Context.GetLogger();
    private ReplicaShell? _shell;
    private IActorRef? _storage;
    private Exception? _storageFailure;
    private bool _readyQueued;
    private ulong _readSequence;
    private ulong _applied;
    private SnapshotReceiver? _receiver;
    private bool _quiesced; // as last counted in the metrics

    /// <summary>A snapshot Ready whose install the storage actor is doing (see <see cref="OnSnapshotInstalled"/>).</summary>
    private ReadyWrite? _installing;

    /// <summary>The configuration as of the applied index (from the snapshot, then each applied conf change).</summary>
    private ConfState _appliedConf = ConfState.Empty;

    /// <summary>Applied index at which a snapshot was last requested for the core; another only once more is applied.</summary>
    private ulong _snapshotRequestedAt;

    public ReplicaActor(ReplicaOptions options, IReplicaLog log, IRaftTransport transport, ReplicaMonitor monitor)
    {
        _options = options;
        _log = log;
        _transport = transport;
        _monitor = monitor;
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public IStash Stash { get; set; } = null!;

    /// <summary>A replica on <see cref="ReplicaDispatcher"/> (the system must include its HOCON).</summary>
    public static Props Props(ReplicaOptions options, IReplicaLog log, IRaftTransport transport, ReplicaMonitor monitor) =>
        Akka.Actor.Props.Create<ReplicaActor>(options, log, transport, monitor).WithDispatcher(ReplicaDispatcher.Id);

    /// <summary>
    /// The storage child failed: the host's observer hears of it; it restarts (after its own backoff, see
    /// <see cref="StorageActor"/>) unless no restart can fix the failure. A storage actor stopped for good stops the
    /// replica too (see the <see cref="Terminated"/> case).
    /// </summary>
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(error =>
    {
        _storageFailure = error;
        _options.HealthObserver?.StorageFailed(_options.GroupId, error);
        return RestartPolicy.IsPermanent(error) ? Directive.Stop : Directive.Restart;
    }, loggingEnabled: _options.HealthObserver is null);

    protected override void PreStart() => Self.Tell(ReplicaMessage.Start.Instance);

    protected override void PostRestart(Exception reason)
    {
        if (RestartPolicy.IsPermanent(reason) || !_monitor.Backoff.TryRestart(Context.System.Scheduler.Now, out var delay))
        {
            StopForGood(reason);
            return;
        }
        if (_options.HealthObserver is null)
            _logger.Warning("group {0} on node {1}: restarting in {2} after: {3}", _options.GroupId, _options.NodeId, delay, reason.Message);
        Timers.StartSingleTimer(StartTimer, ReplicaMessage.Start.Instance, delay);
    }

    /// <summary>A failure no restart fixes, or one too many: the replica stops, and the host hears why once.</summary>
    private void StopForGood(Exception cause)
    {
        if (_options.HealthObserver is { } observer)
            observer.ReplicaStopped(_options.GroupId, cause);
        else
            _logger.Error(cause, "group {0} on node {1}: stopping for good", _options.GroupId, _options.NodeId);
        _monitor.ReportFailed(cause);
        Context.Stop(Self);
    }

    /// <summary>Opens the replica: storage child, core, tick timer. Before this, every message waits in the stash.</summary>
    private void Start()
    {
        var (_, conf) = _log.InitialState();
        var snapshot = _log.Snapshot();
        _appliedConf = conf.Voters.Count + conf.Learners.Count > 0 ? conf : _options.InitialMembers;
        _storage = Context.ActorOf(StorageActor.Props(_options, Self, _appliedConf, new RestartBackoff(_options.StorageRestarts)), "storage");
        Context.Watch(_storage);
        // The engine's applied index is read by the storage actor; the core restarts from the log's snapshot
        // and re-delivers committed entries, which the storage actor skips when already applied.
        _shell = new ReplicaShell($"Group {_options.GroupId}", _options.ToRaftConfig(applied: snapshot.Index), _log, this, _options.MaxReadiesInFlight);
        _applied = snapshot.Index;
        Timers.StartSingleTimer(TickTimer, ReplicaMessage.Tick.Instance, _options.TickInterval);
        _options.Metrics?.ReplicaStarted();
        PublishStatus();
        Stash.UnstashAll();
    }

    protected override void PostStop()
    {
        _receiver?.Dispose();
        // A stopped (or restarting) replica leads nothing: routers must not keep sending to it on its last status.
        if (_monitor.Status is { } last)
        {
            _options.Metrics?.ReplicaStopped(last.Role, _quiesced);
            _monitor.Publish(last with { Role = RaftRole.Follower, Leader = 0 });
            _options.StatusChanged?.Notify();
        }
        foreach (var waiter in _waiters.TakeAll())
            waiter.Reply.Reply(new ProposeOutcome.NotLeader(0));
        foreach (var read in _pendingReads.Values)
            read.Reply.Reply(new ReadOutcome.NotLeader(0));
        _pendingReads.Clear();
    }

    protected override void OnReceive(object message)
    {
        if (_shell is null)
        {
            if (message is ReplicaMessage.Start)
                Start();
            else
                Stash.Stash();
            return;
        }
        var node = _shell.Node;
        switch (message)
        {
            case ReplicaMessage.Propose propose:
                OnProposeResult(node.Propose(propose.Command.Encode()), propose.Reply);
                break;
            case ReplicaMessage.Step step:
                bool wasQuiet = node.Quiesced;
                if (!_shell.Deliver(step.Message))
                {
                    _logger.Debug("group {0}: dropped {1} from {2} addressed to replica {3}, not to this one ({4})", _options.GroupId, step.Message.Type,
                        ReplicaId.Describe(step.Message.From), ReplicaId.Describe(step.Message.To), ReplicaId.Describe(_options.NodeId));
                    break;
                }
                if (node.Quiesced != wasQuiet)
                    PublishStatus(); // a follower quiesces on the leader's last heartbeat, which needs no Ready either
                break;
            case ReplicaMessage.WriteDone:
                _shell.CompleteDurable();
                break;
            case ReplicaMessage.ProcessReady:
                _readyQueued = false;
                _shell.Drain();
                return;
            case ReplicaMessage.SnapshotInstalled installed:
                OnSnapshotInstalled(installed);
                break;
            case ReplicaMessage.Read read:
                OnRead(node, read);
                break;
            case ReplicaMessage.Tick:
                // The next tick is armed only now: one tick in flight at a time. Akka's periodic timers catch up after a
                // stall (HashedWheelTimerScheduler runs every missed wheel tick at once), and ten ticks handled in a row
                // with nothing between them pass for an election timeout's silence: leaders were deposed under load.
                Timers.StartSingleTimer(TickTimer, ReplicaMessage.Tick.Instance, _options.TickInterval);
                bool wasQuiesced = node.Quiesced;
                node.Tick();
                if (node.Quiesced != wasQuiesced)
                    PublishStatus(); // quiescing needs no Ready, so nothing else would publish it
                break;
            case ReplicaMessage.ChangeMembership change:
                OnProposeResult(node.ProposeConfChange(change.Change), change.Reply);
                break;
            case ReplicaMessage.TransferLeadership transfer:
                transfer.Reply.Reply(node.TransferLeader(transfer.To));
                break;
            case ReplicaMessage.SnapshotChunk chunk:
                OnSnapshotChunk(node, chunk);
                break;
            case ReplicaMessage.SnapshotSent sent:
                _snapshotsInFlight.Remove(sent.To);
                node.ReportSnapshot(sent.To, sent.Succeeded);
                break;
            case ReplicaMessage.SnapshotTaken taken:
                var compaction = _log.CompactAsync(taken.Snapshot, CancellationToken.None);
                if (!compaction.IsCompletedSuccessfully)
                {
                    // The mailbox waits (RunTask suspends it): nothing may touch the log while it is compacted.
                    var task = compaction.AsTask();
                    RunTask(() => task);
                }
                break;
            case ReplicaMessage.Applied applied:
                _applied = Math.Max(_applied, applied.Index);
                break;
            case ReplicaMessage.GetStatus status:
                status.Reply.Reply(BuildStatus(node));
                break;
            case ReplicaMessage.GetProgress progress:
                progress.Reply.Reply(BuildProgress(node));
                break;
            case Terminated terminated when terminated.ActorRef.Equals(_storage):
                // Without its storage the replica can neither apply nor serve: it leaves the group's quorum rather
                // than lead or vote as a member that can never catch up, and the host reports why.
                StopForGood(_storageFailure ?? new IOException($"Group {_options.GroupId}: its storage actor stopped."));
                return;
            case Terminated:
                break; // a storage child of an earlier incarnation
            case ReplicaMessage.Start:
                break;
            default:
                Unhandled(message);
                return;
        }
        AfterInput(node);
    }

    /// <summary>After any input: the core may want a snapshot or have a Ready; one ProcessReady drains it.</summary>
    private void AfterInput(RaftNode node)
    {
        if (node.TakeSnapshotRequest())
            RequestSnapshot();
        if (node.Quiesced != _quiesced)
        {
            _quiesced = node.Quiesced;
            _options.Metrics?.QuiescedChanged(_quiesced);
        }
        if (!_readyQueued && node.HasReady())
        {
            _readyQueued = true;
            Self.Tell(ReplicaMessage.ProcessReady.Instance);
        }
    }

    private void OnProposeResult(RaftResult result, ReplyTo<ProposeOutcome> reply)
    {
        _options.Metrics?.Proposed(result.Code);
        switch (result.Code)
        {
            case RaftResultCode.Ok:
                _waiters.Add(new ProposalWaiter(result.Index, result.Term, reply));
                break;
            case RaftResultCode.NotLeader:
                reply.Reply(new ProposeOutcome.NotLeader(result.LeaderHint));
                break;
            default:
                reply.Reply(new ProposeOutcome.Rejected(result.ToString(), result.Code is RaftResultCode.ConfChangePending or RaftResultCode.LeaderTransferInProgress));
                break;
        }
    }

    private void OnRead(RaftNode node, ReplicaMessage.Read read)
    {
        switch (read.Mode)
        {
            case ReadMode.Stale:
                _storage!.Tell(new StorageMessage.Read(read.Query, 0, read.Reply));
                return;
            case ReadMode.Lease when _options.LeaseReads && node.HasLease && node.CommittedEntryInCurrentTerm:
                _storage!.Tell(new StorageMessage.Read(read.Query, node.Committed, read.Reply));
                return;
        }
        if (node.Role != RaftRole.Leader)
        {
            read.Reply.Reply(new ReadOutcome.NotLeader(node.Lead));
            return;
        }
        ulong id = ++_readSequence;
        var context = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(context, id);
        var result = node.ReadIndex(context);
        if (!result.IsOk)
        {
            read.Reply.Reply(new ReadOutcome.NotLeader(result.LeaderHint));
            return;
        }
        _pendingReads[id] = new PendingRead(read.Query, read.Reply, node.Term);
    }

    bool IReadyEffects.BeginWrite(ReadyWrite write)
    {
        var ready = write.Ready;
        if (ready.Snapshot is { } snapshot)
        {
            // The storage actor installs first and answers SnapshotInstalled; the log follows (OnSnapshotInstalled).
            // The core hands out nothing else until this Ready completes.
            _installing = write;
            _storage!.Tell(new StorageMessage.Install(snapshot, SnapshotFiles.IncomingDirectory(_options.Directory, snapshot.Index)));
            return false;
        }
        if (!NeedsWrite(ready))
            return true;
        var pending = _log.PersistAsync(ready.Entries, ready.HardState, ready.MustSync, CancellationToken.None);
        if (pending.IsCompletedSuccessfully)
            return true;
        _ = WatchWriteAsync(pending, write, Self);
        return false;
    }

    /// <summary>The storage actor replaced its engine with the snapshot: reset the log to it, then write the Ready's entries and hard state.</summary>
    private void OnSnapshotInstalled(ReplicaMessage.SnapshotInstalled installed)
    {
        var write = _installing ?? throw new InvalidOperationException($"Group {_options.GroupId}: snapshot {installed.Index} was installed, but none was being installed.");
        _installing = null;
        var snapshot = write.Ready.Snapshot!;
        if (!installed.Succeeded)
            throw new InvalidOperationException($"Group {_options.GroupId}: the storage actor refused snapshot {snapshot.Index}.");
        _options.Metrics?.SnapshotReceived();
        _applied = snapshot.Index;
        _appliedConf = snapshot.Metadata.ConfState;
        var reset = _log.InstallSnapshotAsync(snapshot, CancellationToken.None);
        if (reset.IsCompletedSuccessfully && !NeedsWrite(write.Ready))
        {
            write.MarkDone(null);
            _shell!.CompleteDurable();
            return;
        }
        _ = WatchWriteAsync(ResetThenPersistAsync(reset, write.Ready), write, Self);
    }

    private async ValueTask ResetThenPersistAsync(ValueTask reset, Ready ready)
    {
        await reset.ConfigureAwait(false);
        if (NeedsWrite(ready))
            await _log.PersistAsync(ready.Entries, ready.HardState, ready.MustSync, CancellationToken.None).ConfigureAwait(false);
    }

    void IReadyEffects.Taken(Ready ready)
    {
    }

    void IReadyEffects.Send(IReadOnlyList<Message> messages) => SendMessages(_shell!.Node, messages);

    void IReadyEffects.Apply(IReadOnlyList<Entry> committed) => HandOverCommitted(_shell!.Node, committed);

    void IReadyEffects.Completed(Ready ready)
    {
        foreach (var readState in ready.ReadStates)
        {
            ulong id = BinaryPrimitives.ReadUInt64LittleEndian(readState.RequestContext);
            if (_pendingReads.Remove(id, out var pending))
                _storage!.Tell(new StorageMessage.Read(pending.Query, readState.Index, pending.Reply));
        }
        if (ready.SoftState is { } soft && soft.Role != RaftRole.Leader)
            FailPendingReads(soft.Lead);
        PublishStatus();
    }

    /// <summary>
    /// A hard state that only moves the commit index need not be written: commit is re-learned from the leader
    /// after a restart (and raised to the snapshot index), so that Ready needs no fsync.
    /// </summary>
    private static bool NeedsWrite(Ready ready) => ready.Entries.Count > 0 || (ready.HardState is not null && ready.MustSync);

    /// <summary>Marks <paramref name="item"/> done when <paramref name="write"/> ends and tells the replica (the node log's completion piped back as a message).</summary>
    private static async Task WatchWriteAsync(ValueTask write, ReadyWrite item, IActorRef self)
    {
        try
        {
            await write.ConfigureAwait(false);
            item.MarkDone(null);
        }
        catch (Exception e)
        {
            item.MarkDone(e);
        }
        self.Tell(ReplicaMessage.WriteDone.Instance);
    }

    private void SendMessages(RaftNode node, IReadOnlyList<Message> messages)
    {
        foreach (var message in messages)
        {
            if (message.Type == MessageType.Snap)
                StartSnapshotTransfer(message);
            else if (!_transport.Send(_options.GroupId, message))
                node.ReportUnreachable(message.To);
        }
    }

    private void HandOverCommitted(RaftNode node, IReadOnlyList<Entry> entries)
    {
        _options.Metrics?.Committed(entries.Count);
        var waiters = _waiters.TakeThrough(entries[^1].Index);
        Dictionary<ulong, ConfState>? confStates = null;
        for (int i = 0; i < entries.Count; i++)
            if (entries[i].Type == EntryType.ConfChange)
                (confStates ??= new())[entries[i].Index] = _appliedConf = node.ApplyConfChange(entries[i]);
        _storage!.Tell(new StorageMessage.Apply(entries, waiters, (IReadOnlyDictionary<ulong, ConfState>?)confStates ?? EmptyConf));
    }

    private static readonly IReadOnlyDictionary<ulong, ConfState> EmptyConf = new Dictionary<ulong, ConfState>();

    private void FailPendingReads(ulong leaderHint)
    {
        foreach (var read in _pendingReads.Values)
            read.Reply.Reply(new ReadOutcome.NotLeader(leaderHint));
        _pendingReads.Clear();
    }

    /// <summary>
    /// The core needs a snapshot to send (a new member knows no configuration, or the latest snapshot predates it):
    /// checkpoint the state machine at its applied index. The storage actor answers with SnapshotTaken, which
    /// compacts the log; the core retries on the follower's next heartbeat response.
    /// </summary>
    private void RequestSnapshot()
    {
        if (_applied <= _snapshotRequestedAt)
            return;
        _snapshotRequestedAt = _applied;
        _storage!.Tell(StorageMessage.TakeSnapshot.Instance);
    }

    /// <summary>Streams the local snapshot's files to a follower in chunks, then delivers the Snap message.</summary>
    private void StartSnapshotTransfer(Message snap)
    {
        if (!_snapshotsInFlight.Add(snap.To))
            return;
        var self = Self;
        var options = _options;
        var transport = _transport;
        var fs = options.EngineOptions.FileSystem;
        _ = Task.Run(async () =>
        {
            bool ok = false;
            try
            {
                ok = await SnapshotSender.SendAsync(fs, options, transport, snap, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or TimeoutException or OperationCanceledException or InvalidOperationException)
            {
                ok = false;
            }
            options.Metrics?.SnapshotSent(ok);
            self.Tell(new ReplicaMessage.SnapshotSent(snap.To, ok));
        });
    }

    private void OnSnapshotChunk(RaftNode node, ReplicaMessage.SnapshotChunk message)
    {
        var chunk = message.Chunk;
        if (chunk.To != _options.NodeId)
        {
            message.Reply.Reply(new SnapshotChunkAck(false, 0, false,
                $"the replica of group {_options.GroupId} here is {ReplicaId.Describe(_options.NodeId)}, not {ReplicaId.Describe(chunk.To)}"));
            return;
        }
        _receiver ??= new SnapshotReceiver(_options.EngineOptions.FileSystem, _options.Directory);
        var ack = _receiver.Accept(chunk);
        if (ack.Complete)
        {
            // Every file is staged: hand the Snap message to the core, which emits the snapshot in a Ready.
            node.Step(new Message
            {
                Type = MessageType.Snap,
                From = chunk.From,
                To = chunk.To,
                Term = chunk.Term,
                Snapshot = chunk.Snapshot,
            });
        }
        message.Reply.Reply(ack);
    }

    private ReplicaStatus BuildStatus(RaftNode node) =>
        new(_options.GroupId, _options.NodeId, node.Role, node.Lead, node.Term, node.Committed, _applied, node.Config,
            Removed: !_appliedConf.Voters.IsEmpty && !_appliedConf.Contains(_options.NodeId), Quiesced: node.Quiesced);

    private GroupProgress BuildProgress(RaftNode node)
    {
        var status = node.Status();
        var peers = new SortedDictionary<ulong, PeerProgress>();
        foreach (var (id, p) in status.Progress)
            peers[id] = new PeerProgress(p.Match, p.Next, p.State, p.IsLearner, status.Config.Contains(id), p.RecentActive);
        return new GroupProgress(_options.GroupId, _options.NodeId, node.Role, node.Lead, node.Term, status.LastIndex, node.Committed,
            _applied, status.Config, node.ConfChangePending, peers);
    }

    private void PublishStatus()
    {
        var status = BuildStatus(_shell!.Node);
        var old = _monitor.Status;
        _monitor.Publish(status);
        _options.Metrics?.StatusChanged(old?.Role, old?.Leader ?? 0, status.Role, status.Leader);
        if (old is null || old.Role != status.Role || old.Leader != status.Leader || old.Term != status.Term || !old.Members.Equals(status.Members) || old.Removed != status.Removed)
        {
            if (old is null || old.Role != status.Role || old.Leader != status.Leader || !old.Members.Equals(status.Members))
                if (_logger.IsDebugEnabled)
                    _logger.Debug($"group {status.GroupId} on node {status.NodeId}: {status.Role}, leader {status.Leader}, term {status.Term}, voters [{string.Join(",", status.Members.Voters)}], learners [{string.Join(",", status.Members.Learners)}]{(status.Removed ? ", removed" : "")}");
            _options.StatusChanged?.Notify();
        }
    }

    private sealed record PendingRead(ReadQuery Query, ReplyTo<ReadOutcome> Reply, ulong Term);
}
