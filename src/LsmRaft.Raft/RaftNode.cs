namespace LsmRaft.Raft;

/// <summary>
/// The API a shell drives: feed it time (<see cref="Tick"/>), messages (<see cref="Step"/>) and requests;
/// collect its work with <see cref="HasReady"/> / <see cref="GetReady"/>, do it, then <see cref="Advance"/>.
/// Single-threaded and deterministic: the same inputs and seed give the same outputs.
/// </summary>
/// <remarks>
/// At most one <see cref="Ready"/> is outstanding: <see cref="HasReady"/> is false and <see cref="GetReady"/>
/// throws between a <see cref="GetReady"/> and its <see cref="Advance"/>. Ticks, steps and requests are allowed
/// in between; their output goes into the next Ready. With <see cref="RaftConfig.PipelinedReadies"/> several
/// may be outstanding; they are advanced in the order they were taken.
/// </remarks>
public sealed class RaftNode
{
    private readonly Raft raft;
    private readonly bool pipelined;
    private readonly Queue<Ready> outstanding = new();
    private SoftState previousSoftState;
    private HardState previousHardState;

    /// <summary>
    /// Pipelined mode: the last committed index handed out in a Ready. Invariant: <c>Log.Applied &lt;= applying &lt;= Log.Committed</c>
    /// once the Readies carrying them are advanced.
    /// </summary>
    private ulong applying;

    public RaftNode(RaftConfig config, IRaftStorage storage)
    {
        pipelined = config.PipelinedReadies;
        raft = new Raft(config, storage);
        previousSoftState = raft.SoftState;
        previousHardState = storage.InitialState().HardState;
    }

    public ulong Id => raft.Id;

    public RaftRole Role => raft.Role;

    public ulong Lead => raft.Lead;

    public ulong Term => raft.Term;

    /// <summary>The highest log index known to be committed.</summary>
    public ulong Committed => raft.Log.Committed;

    /// <summary>The current membership (switched when a conf change is appended, §4.1).</summary>
    public ConfState Config => raft.Config;

    /// <summary>True on a leader whose last conf change is not committed yet (a new one would be refused).</summary>
    public bool ConfChangePending => raft.ConfChangePending;

    /// <summary>
    /// True once this term's leader has committed an entry of its own term: only then is its commit index
    /// known to be current, which a lease read needs (§6.4).
    /// </summary>
    public bool CommittedEntryInCurrentTerm => raft.CommittedEntryInCurrentTerm;

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

    /// <summary>Readies taken and not yet advanced.</summary>
    public int OutstandingReadies => outstanding.Count;

    public bool HasReady()
    {
        if (pipelined)
        {
            return HasPipelinedReady();
        }

        if (outstanding.Count > 0)
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

    private bool HasPipelinedReady()
    {
        if (outstanding.Count > 0 && (outstanding.Peek().Snapshot is not null || raft.Log.HasPendingSnapshot))
        {
            // A snapshot replaces the whole log: it is handed out alone and nothing follows it until it is installed.
            return false;
        }

        var hard = raft.HardState;
        return raft.SoftState != previousSoftState
            || (hard != HardState.Empty && hard != previousHardState)
            || raft.HasPendingOutput
            || raft.Log.Unstable.CountNotInProgress > 0
            || raft.Log.HasPendingSnapshot
            || raft.Log.HasNextDurableCommittedEntries(Math.Max(applying, raft.Log.Applied));
    }

    private Ready GetPipelinedReady()
    {
        if (!HasPipelinedReady() && outstanding.Count > 0)
        {
            throw new InvalidOperationException("No Ready may be taken while a snapshot Ready is outstanding or waits to be taken alone.");
        }

        var soft = raft.SoftState;
        var hard = raft.HardState;
        var snapshot = raft.Log.Unstable.Snapshot;
        var entries = raft.Log.Unstable.TakeToPersist();
        var committed = raft.Log.NextDurableCommittedEntries(Math.Max(applying, raft.Log.Applied));
        if (committed.Count > 0)
        {
            applying = committed[^1].Index;
        }

        var hardChanged = hard != HardState.Empty && hard != previousHardState;
        var ready = new Ready
        {
            SoftState = soft != previousSoftState ? soft : null,
            HardState = hardChanged ? hard : null,
            Entries = entries,
            Snapshot = snapshot,
            CommittedEntries = committed,
            Messages = raft.TakeMessages(),
            ReadStates = raft.TakeReadStates(),
            MustSync = entries.Length > 0 || snapshot is not null
                || hard.Term != previousHardState.Term || hard.Vote != previousHardState.Vote,
        };
        previousSoftState = soft;
        if (hardChanged)
        {
            previousHardState = hard;
        }

        outstanding.Enqueue(ready);
        return ready;
    }

    /// <summary>Collect the work accumulated since the previous Ready. Call <see cref="Advance"/> when it is done.</summary>
    public Ready GetReady()
    {
        if (pipelined)
        {
            return GetPipelinedReady();
        }

        if (outstanding.Count > 0)
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

        outstanding.Enqueue(ready);
        return ready;
    }

    /// <summary>The shell persisted, sent and applied <paramref name="ready"/> (pipelined: the oldest outstanding one).</summary>
    public void Advance(Ready ready)
    {
        if (outstanding.Count == 0 || !ReferenceEquals(ready, outstanding.Peek()))
        {
            throw new InvalidOperationException("Advance must be called with the oldest Ready returned by GetReady and not yet advanced.");
        }

        outstanding.Dequeue();

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

    /// <summary>True while this node's timers are stopped because its group is idle (see <see cref="RaftConfig.QuiesceAfterTicks"/>).</summary>
    public bool Quiesced => raft.Quiesced;

    /// <summary>True while the leader holds a read lease (LeaseBased reads need no heartbeat round).</summary>
    public bool HasLease => raft.LeaseValid();

    /// <summary>The core itself, for tests and the simulator's invariant checks. Do not mutate.</summary>
    internal Raft Core => raft;
}
