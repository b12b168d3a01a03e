namespace LsmRaft.Actors.Raft;

/// <summary>
/// The API a shell drives: feed it time (<see cref="Tick"/>), messages (<see cref="Step"/>) and requests;
/// collect its work with <see cref="HasReady"/> / <see cref="GetReady"/>, do it, then <see cref="Advance"/>.
/// Single-threaded and deterministic: the same inputs and seed give the same outputs.
/// </summary>
/// <remarks>
/// At most one <see cref="Ready"/> is outstanding: <see cref="HasReady"/> is false and <see cref="GetReady"/>
/// throws between a <see cref="GetReady"/> and its <see cref="Advance"/>. Ticks, steps and requests are allowed
/// in between; their output goes into the next Ready.
/// </remarks>
internal sealed class RaftNode
{
    private readonly Raft raft;
    private SoftState previousSoftState;
    private HardState previousHardState;
    private Ready? outstanding;

    public RaftNode(RaftConfig config, IRaftStorage storage)
    {
        raft = new Raft(config, storage);
        previousSoftState = raft.SoftState;
        previousHardState = storage.InitialState().HardState;
    }

    public ulong Id => raft.Id;

    public RaftRole Role => raft.Role;

    public ulong Lead => raft.Lead;

    public ulong Term => raft.Term;

    /// <summary>Advance logical time by one tick: election and heartbeat timers, quorum checks, transfer timeouts.</summary>
    public void Tick() => raft.Tick();

    /// <summary>
    /// Handle a message from a peer. Local message kinds are rejected (use the request methods); answers from
    /// nodes outside the configuration are ignored.
    /// </summary>
    public void Step(Message message)
    {
        if (message.IsLocal)
        {
            throw new ArgumentException($"{message.Type} is local to a node; use Campaign/ReportSnapshot/ReportUnreachable instead.", nameof(message));
        }

        if (message.IsResponse && raft.Tracker.Get(message.From) is null)
        {
            return;
        }

        raft.Step(message);
    }

    /// <summary>Start an election now (pre-vote first if configured), as if the election timer fired.</summary>
    public void Campaign() => raft.Step(new Message { Type = MessageType.Hup, From = raft.Id });

    /// <summary>Append a command if this node leads. Never drops silently: see <see cref="RaftResult"/>.</summary>
    public RaftResult Propose(byte[] data) => raft.Propose(EntryType.Normal, data);

    /// <summary>Append a membership change if this node leads and no other change is uncommitted.</summary>
    public RaftResult ProposeConfChange(ConfChange change) => raft.Propose(EntryType.ConfChange, change.Encode());

    /// <summary>
    /// Request a linearizable read. A <see cref="ReadState"/> with this context appears in a later Ready; on a
    /// follower the request is forwarded to the leader and, like any message, may be lost (time out and retry).
    /// Contexts must be unique among pending reads.
    /// </summary>
    public RaftResult ReadIndex(byte[] context) => raft.ReadIndex(context);

    /// <summary>Hand leadership to <paramref name="transferee"/> (forwarded to the leader when called on a follower).</summary>
    public RaftResult TransferLeader(ulong transferee) => raft.TransferLeader(transferee);

    /// <summary>The shell finished (or failed) sending the snapshot it was asked to send to <paramref name="to"/>.</summary>
    public void ReportSnapshot(ulong to, bool succeeded) =>
        raft.Step(new Message { Type = MessageType.SnapStatus, From = to, Reject = !succeeded });

    /// <summary>The transport could not deliver to <paramref name="to"/>; replication falls back to probing.</summary>
    public void ReportUnreachable(ulong to) => raft.Step(new Message { Type = MessageType.Unreachable, From = to });

    /// <summary>
    /// The shell applied the committed conf-change <paramref name="entry"/>. The core switched configuration
    /// when the entry was appended (§4.1); this returns the configuration as of the entry, which the shell
    /// records with its state machine so snapshots taken at or after it carry the right membership.
    /// </summary>
    public ConfState ApplyConfChange(Entry entry)
    {
        if (entry.Type != EntryType.ConfChange)
        {
            throw new ArgumentException($"Entry {entry.Index} is not a conf change.", nameof(entry));
        }

        if (entry.Index > raft.Log.Committed)
        {
            throw new InvalidOperationException($"Conf change {entry.Index} is not committed (commit {raft.Log.Committed}); apply only committed entries.");
        }

        return raft.ConfigAt(entry.Index);
    }

    public bool HasReady()
    {
        if (outstanding is not null)
        {
            return false;
        }

        var hard = raft.HardState;
        return raft.SoftState != previousSoftState
            || (hard != HardState.Empty && hard != previousHardState)
            || raft.HasPendingOutput
            || raft.Log.Unstable.Entries.Count > 0
            || raft.Log.HasPendingSnapshot
            || raft.Log.HasNextCommittedEntries(raft.Log.Applied);
    }

    /// <summary>Collect the work accumulated since the previous Ready. Call <see cref="Advance"/> when it is done.</summary>
    public Ready GetReady()
    {
        if (outstanding is not null)
        {
            throw new InvalidOperationException("The previous Ready has not been advanced; call Advance(ready) first.");
        }

        var soft = raft.SoftState;
        var hard = raft.HardState;
        var entries = raft.Log.Unstable.Entries.ToArray();
        var hardChanged = hard != HardState.Empty && hard != previousHardState;
        var ready = new Ready
        {
            SoftState = soft != previousSoftState ? soft : null,
            HardState = hardChanged ? hard : null,
            Entries = entries,
            Snapshot = raft.Log.Unstable.Snapshot,
            CommittedEntries = raft.Log.NextCommittedEntries(raft.Log.Applied),
            Messages = raft.TakeMessages(),
            ReadStates = raft.TakeReadStates(),
            MustSync = entries.Length > 0 || raft.Log.Unstable.Snapshot is not null
                || hard.Term != previousHardState.Term || hard.Vote != previousHardState.Vote,
        };
        previousSoftState = soft;
        if (hardChanged)
        {
            previousHardState = hard;
        }

        outstanding = ready;
        return ready;
    }

    /// <summary>The shell persisted, sent and applied <paramref name="ready"/>.</summary>
    public void Advance(Ready ready)
    {
        if (!ReferenceEquals(ready, outstanding))
        {
            throw new InvalidOperationException("Advance must be called with the Ready returned by the last GetReady.");
        }

        if (ready.Snapshot is { } snapshot)
        {
            raft.Log.StableSnapTo(snapshot.Index);
            raft.Log.AppliedSnapshot(snapshot.Index);
        }

        if (ready.Entries.Count > 0)
        {
            var last = ready.Entries[^1];
            raft.Log.StableTo(last.Index, last.Term);
            raft.OnSelfPersisted(Math.Min(last.Index, raft.Log.Unstable.Offset - 1));
        }

        if (ready.CommittedEntries.Count > 0)
        {
            raft.Log.AppliedTo(ready.CommittedEntries[^1].Index);
        }

        raft.OnApplied();
        outstanding = null;
    }

    public RaftStatus Status()
    {
        var progress = new SortedDictionary<ulong, ProgressStatus>();
        if (raft.Role == RaftRole.Leader)
        {
            foreach (var (id, pr) in raft.Tracker.Progress)
            {
                progress[id] = new ProgressStatus(pr.Match, pr.Next, pr.State, pr.IsLearner, pr.RecentActive, pr.IsPaused, pr.Inflights.Count, pr.PendingSnapshot);
            }
        }

        return new RaftStatus(raft.Id, raft.HardState, raft.SoftState, raft.Log.Applied, raft.Log.LastIndex(), raft.LeadTransferee, raft.Config, progress);
    }

    /// <summary>
    /// True once after the leader needed a snapshot its storage could not provide (none taken yet, or one from
    /// before the follower joined). The shell should then snapshot its state machine at the applied index (which
    /// compacts the log); the leader retries on the follower's next heartbeat response.
    /// </summary>
    public bool TakeSnapshotRequest()
    {
        var requested = raft.SnapshotRequested;
        raft.SnapshotRequested = false;
        return requested;
    }

    /// <summary>True while the leader holds a read lease (LeaseBased reads need no heartbeat round).</summary>
    public bool HasLease => raft.LeaseValid();

    /// <summary>The core itself, for tests and the simulator's invariant checks. Do not mutate.</summary>
    internal Raft Core => raft;
}
