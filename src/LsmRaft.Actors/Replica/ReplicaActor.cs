using System.Buffers.Binary;
using LsmRaft.Actors.Kernel;
using LsmRaft.Raft;

namespace LsmRaft.Actors.Replica;

/// <summary>
/// The I/O shell around one Raft group member: reads its mailbox (proposals, reads, peer messages,
/// ticks), steps the pure core, and for each Ready persists entries and hard state to the replica log
/// (the node log's group commit batches every group's appends into one fsync), sends messages through
/// the transport, hands committed entries to its child <see cref="StorageActor"/>, then advances the core.
/// </summary>
/// <remarks>
/// Batching: inputs only step the core; a single <see cref="ReplicaMessage.ProcessReady"/> queued behind
/// them drains the Ready, so proposals that arrive together share one persist and one append message.
/// Invariant: every proposal gets exactly one outcome — committed, NotLeader with a hint, or a rejection —
/// unless the asker's timeout fires first.
/// </remarks>
internal sealed class ReplicaActor : Actor<ReplicaMessage>, IReadyEffects
{
    private readonly ReplicaOptions _options;
    private readonly IReplicaLog _log;
    private readonly IRaftTransport _transport;
    private readonly ProposalWaiters _waiters = new();
    private readonly Dictionary<ulong, PendingRead> _pendingReads = new();
    private readonly HashSet<ulong> _snapshotsInFlight = new();
    private ReplicaShell? _shell;
    private ActorRef<StorageMessage>? _storage;
    private ITimer? _ticker;
    private bool _readyQueued;
    private ulong _readSequence;
    private ulong _applied;
    private ReplicaStatus? _status;
    private SnapshotReceiver? _receiver;
    private CancellationToken _cancellation;
    private bool _quiesced; // as last counted in the metrics

    /// <summary>A snapshot Ready's install and write, started by the shell; the replica waits for it before anything else.</summary>
    private (Task Task, ReadyWrite Write)? _install;

    /// <summary>The configuration as of the applied index (from the snapshot, then each applied conf change).</summary>
    private ConfState _appliedConf = ConfState.Empty;

    /// <summary>Applied index at which a snapshot was last requested for the core; another only once more is applied.</summary>
    private ulong _snapshotRequestedAt;

    public ReplicaActor(ReplicaOptions options, IReplicaLog log, IRaftTransport transport)
    {
        _options = options;
        _log = log;
        _transport = transport;
        var policy = options.StorageRestarts;
        _storageSupervision = new SupervisorStrategy(OnStorageFailure)
        {
            MaxRestarts = policy.MaxRestarts,
            Window = policy.Window,
            MinBackoff = policy.MinBackoff,
            MaxBackoff = policy.MaxBackoff,
            LoggingEnabled = options.HealthObserver is null, // the observer reports failures, once
            ChildStopped = (_, cause) => Context.Self.Tell(new ReplicaMessage.StorageStopped(cause)),
        };
    }

    private readonly SupervisorStrategy _storageSupervision;

    /// <summary>The storage child is restarted with backoff, unless its failure is one no restart can fix.</summary>
    protected internal override SupervisorStrategy SupervisorStrategy => _storageSupervision;

    private Directive OnStorageFailure(Exception cause)
    {
        _options.HealthObserver?.StorageFailed(_options.GroupId, cause);
        return RestartPolicy.IsPermanent(cause) ? Directive.Stop : Directive.Restart;
    }

    /// <summary>Latest published status (role, leader, term); read by routers without a mailbox round trip.</summary>
    public ReplicaStatus? Status => Volatile.Read(ref _status);

    protected internal override ValueTask PreStartAsync(CancellationToken cancellationToken)
    {
        var (_, conf) = _log.InitialState();
        var snapshot = _log.Snapshot();
        var self = Context.Self;
        _appliedConf = conf.Voters.Count + conf.Learners.Count > 0 ? conf : _options.InitialMembers;
        var storageConf = _appliedConf;
        _storage = Context.SpawnChild("storage", () => new StorageActor(_options, self, storageConf));
        // The engine's applied index is read by the storage actor; the core restarts from the log's snapshot
        // and re-delivers committed entries, which the storage actor skips when already applied.
        _shell = new ReplicaShell($"Group {_options.GroupId}", _options.ToRaftConfig(applied: snapshot.Index), _log, this, _options.MaxReadiesInFlight);
        _applied = snapshot.Index;
        _ticker = Context.Time.CreateTimer(_ => self.Tell(ReplicaMessage.Tick.Instance), null, _options.TickInterval, _options.TickInterval);
        _options.Metrics?.ReplicaStarted();
        PublishStatus();
        return default;
    }

    protected internal override async ValueTask PostStopAsync()
    {
        if (_ticker is not null)
            await _ticker.DisposeAsync().ConfigureAwait(false);
        _receiver?.Dispose();
        // A stopped (or restarting) replica leads nothing: routers must not keep sending to it on its last status.
        if (Volatile.Read(ref _status) is { } last)
        {
            _options.Metrics?.ReplicaStopped(last.Role, _quiesced);
            Volatile.Write(ref _status, last with { Role = RaftRole.Follower, Leader = 0 });
            _options.StatusChanged?.Notify();
        }
        foreach (var waiter in _waiters.TakeAll())
            waiter.Reply.Reply(new ProposeOutcome.NotLeader(0));
        foreach (var read in _pendingReads.Values)
            read.Reply.Reply(new ReadOutcome.NotLeader(0));
        _pendingReads.Clear();
    }

    protected internal override async ValueTask ReceiveAsync(ReplicaMessage message, CancellationToken cancellationToken)
    {
        var node = _shell!.Node;
        switch (message)
        {
            case ReplicaMessage.Propose propose:
                OnProposeResult(node.Propose(propose.Command.Encode()), propose.Reply);
                break;
            case ReplicaMessage.ChangeMembership change:
                OnProposeResult(node.ProposeConfChange(change.Change), change.Reply);
                break;
            case ReplicaMessage.Read read:
                OnRead(node, read);
                break;
            case ReplicaMessage.TransferLeadership transfer:
                transfer.Reply.Reply(node.TransferLeader(transfer.To));
                break;
            case ReplicaMessage.Step step:
                node.Step(step.Message);
                break;
            case ReplicaMessage.Tick:
                bool wasQuiesced = node.Quiesced;
                node.Tick();
                if (node.Quiesced != wasQuiesced)
                    PublishStatus(); // quiescing needs no Ready, so nothing else would publish it
                break;
            case ReplicaMessage.SnapshotChunk chunk:
                OnSnapshotChunk(node, chunk);
                break;
            case ReplicaMessage.SnapshotSent sent:
                _snapshotsInFlight.Remove(sent.To);
                node.ReportSnapshot(sent.To, sent.Succeeded);
                break;
            case ReplicaMessage.SnapshotTaken taken:
                await _log.CompactAsync(taken.Snapshot, cancellationToken).ConfigureAwait(false);
                break;
            case ReplicaMessage.Applied applied:
                _applied = Math.Max(_applied, applied.Index);
                break;
            case ReplicaMessage.StorageStopped stopped:
                // Without its storage the replica can neither apply nor serve: it leaves the group's quorum rather
                // than lead or vote as a member that can never catch up, and the host reports why.
                _options.HealthObserver?.ReplicaStopped(_options.GroupId, stopped.Cause);
                Context.Stop(Context.Self);
                return;
            case ReplicaMessage.GetStatus status:
                status.Reply.Reply(BuildStatus(node));
                break;
            case ReplicaMessage.GetProgress progress:
                progress.Reply.Reply(BuildProgress(node));
                break;
            case ReplicaMessage.WriteDone:
                _shell.CompleteDurable();
                break;
            case ReplicaMessage.ProcessReady:
                _readyQueued = false;
                await DrainReadyAsync(cancellationToken).ConfigureAwait(false);
                return;
        }
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
            Context.Self.Tell(ReplicaMessage.ProcessReady.Instance);
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

    /// <summary>
    /// Drains the core through the shell (<see cref="ReplicaShell"/> holds the rules: pipelining, the leader's early
    /// send, apply, in-order completion). Log writes are not waited for: the mailbox keeps being served and each write's
    /// end comes back as <see cref="ReplicaMessage.WriteDone"/>. A snapshot's install is the exception: the replica waits
    /// for it (storage and log must not change under it), and the core hands out nothing else meanwhile.
    /// </summary>
    private async ValueTask DrainReadyAsync(CancellationToken cancellationToken)
    {
        _cancellation = cancellationToken;
        _shell!.Drain();
        while (_install is { } install)
        {
            _install = null;
            Exception? error = null;
            try
            {
                await install.Task.ConfigureAwait(false);
            }
            catch (Exception e)
            {
                error = e;
            }
            install.Write.MarkDone(error);
            _shell.CompleteDurable();
            _shell.Drain();
        }
    }

    bool IReadyEffects.BeginWrite(ReadyWrite write)
    {
        var ready = write.Ready;
        if (ready.Snapshot is { } snapshot)
        {
            _install = (InstallAndPersistAsync(ready, snapshot, _cancellation), write);
            return false;
        }
        if (!NeedsWrite(ready))
            return true;
        var pending = _log.PersistAsync(ready.Entries, ready.HardState, ready.MustSync, _cancellation);
        if (pending.IsCompletedSuccessfully)
            return true;
        Context.System.BeginWork();
        _ = WatchWriteAsync(pending, write, Context.Self, Context.System);
        return false;
    }

    private async Task InstallAndPersistAsync(Ready ready, RaftSnapshot snapshot, CancellationToken cancellationToken)
    {
        await InstallSnapshotAsync(snapshot, cancellationToken).ConfigureAwait(false);
        if (NeedsWrite(ready))
            await _log.PersistAsync(ready.Entries, ready.HardState, ready.MustSync, cancellationToken).ConfigureAwait(false);
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

    /// <summary>Tells the replica when <paramref name="write"/> ends; the system counts as busy until then (tests on a manual clock wait for it).</summary>
    private static async Task WatchWriteAsync(ValueTask write, ReadyWrite item, ActorRef<ReplicaMessage> self, ActorSystem system)
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
        try
        {
            await self.TellAsync(ReplicaMessage.WriteDone.Instance).ConfigureAwait(false);
        }
        finally
        {
            system.EndWork();
        }
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

    private async ValueTask InstallSnapshotAsync(RaftSnapshot snapshot, CancellationToken cancellationToken)
    {
        string staged = SnapshotFiles.IncomingDirectory(_options.Directory, snapshot.Index);
        bool installed = await _storage!.AskAsync<bool>(r => new StorageMessage.Install(snapshot, staged, r), TimeSpan.FromMinutes(10), cancellationToken).ConfigureAwait(false);
        if (!installed)
            throw new InvalidOperationException($"Group {_options.GroupId}: the storage actor refused snapshot {snapshot.Index}.");
        await _log.InstallSnapshotAsync(snapshot, cancellationToken).ConfigureAwait(false);
        _options.Metrics?.SnapshotReceived();
        _applied = snapshot.Index;
        _appliedConf = snapshot.Metadata.ConfState;
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
        var self = Context.Self;
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
        var old = Volatile.Read(ref _status);
        Volatile.Write(ref _status, status);
        _options.Metrics?.StatusChanged(old?.Role, old?.Leader ?? 0, status.Role, status.Leader);
        if (old is null || old.Role != status.Role || old.Leader != status.Leader || old.Term != status.Term || !old.Members.Equals(status.Members) || old.Removed != status.Removed)
        {
            if (old is null || old.Role != status.Role || old.Leader != status.Leader || !old.Members.Equals(status.Members))
                Context.Log(ActorLogLevel.Debug, $"group {status.GroupId} on node {status.NodeId}: {status.Role}, leader {status.Leader}, term {status.Term}, voters [{string.Join(",", status.Members.Voters)}], learners [{string.Join(",", status.Members.Learners)}]{(status.Removed ? ", removed" : "")}");
            _options.StatusChanged?.Notify();
        }
    }

    private sealed record PendingRead(ReadQuery Query, ReplyTo<ReadOutcome> Reply, ulong Term);
}
