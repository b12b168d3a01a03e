namespace LsmRaft.Raft;

/// <summary>How the leader is currently replicating to one follower.</summary>
public enum ProgressState : byte
{
    /// <summary>The leader does not know where the follower's log matches; at most one append in flight.</summary>
    Probe,

    /// <summary>The logs match up to <see cref="Progress.Match"/>; appends are pipelined within the inflight window.</summary>
    Replicate,

    /// <summary>The follower needs a snapshot; appends stop until it is reported installed or failed.</summary>
    Snapshot,
}

/// <summary>
/// The leader's view of one follower (or of itself).
/// Invariant: <c>Match &lt; Next</c>; entries up to <see cref="Match"/> are known to be in the follower's log.
/// </summary>
internal sealed class Progress
{
    public Progress(ulong next, int maxInflight, ulong maxInflightBytes, bool isLearner)
    {
        Next = next;
        Inflights = new Inflights(maxInflight, maxInflightBytes);
        IsLearner = isLearner;
    }

    public ulong Match { get; private set; }

    public ulong Next { get; private set; }

    public ProgressState State { get; private set; } = ProgressState.Probe;

    /// <summary>In <see cref="ProgressState.Snapshot"/>: the index of the snapshot being sent.</summary>
    public ulong PendingSnapshot { get; private set; }

    /// <summary>Heard from since the last CheckQuorum round; reset by the leader each election timeout.</summary>
    public bool RecentActive { get; set; }

    /// <summary>
    /// In Probe: an append is outstanding, wait for its answer or a heartbeat response.
    /// In Replicate: the inflight window is full.
    /// </summary>
    public bool MsgAppFlowPaused { get; set; }

    public Inflights Inflights { get; }

    public bool IsLearner { get; set; }

    /// <summary>
    /// Highest commit index this follower was told that it can act on (bounded by what was sent to it).
    /// Used to avoid empty appends whose only news would be a commit index the follower already has.
    /// </summary>
    public ulong SentCommit { get; set; }

    /// <summary>The leader tick at which the newest heartbeat this follower acknowledged was sent; -1 if none.</summary>
    public long LeaseAckTick { get; set; } = -1;

    public bool IsPaused => State switch
    {
        ProgressState.Probe => MsgAppFlowPaused,
        // A full window pauses sending even if an acknowledgement cleared the flag: an ack below the oldest
        // in-flight message (reordered, duplicated, or answering an old append) frees nothing.
        ProgressState.Replicate => MsgAppFlowPaused || Inflights.Full,
        _ => true,
    };

    /// <summary>
    /// Start probing. After a delivered snapshot the follower holds at least the snapshot, so probing starts
    /// after it; otherwise right after the known match.
    /// </summary>
    public void BecomeProbe(bool snapshotDelivered)
    {
        var next = State == ProgressState.Snapshot && snapshotDelivered ? Math.Max(Match + 1, PendingSnapshot + 1) : Match + 1;
        Reset(ProgressState.Probe);
        Next = next;
    }

    public void BecomeReplicate()
    {
        Reset(ProgressState.Replicate);
        Next = Match + 1;
    }

    public void BecomeSnapshot(ulong snapshotIndex)
    {
        Reset(ProgressState.Snapshot);
        PendingSnapshot = snapshotIndex;
    }

    /// <summary>
    /// The follower said its log is empty (it knows no configuration) after acknowledging entries: its log is gone (a
    /// replica whose disk was lost and that runs again under the same id). Nothing of it is known to match any more.
    /// </summary>
    public void ForgetMatch()
    {
        Match = 0;
        SentCommit = 0;
        Reset(ProgressState.Probe);
        Next = 1;
    }

    /// <summary>The leader's own progress: everything it has is matched.</summary>
    public void SetSelf(ulong lastIndex)
    {
        Match = lastIndex;
        Next = lastIndex + 1;
    }

    /// <summary>The follower acknowledged entries up to <paramref name="index"/>; false if that was already known.</summary>
    public bool MaybeUpdate(ulong index)
    {
        var updated = false;
        if (Match < index)
        {
            Match = index;
            updated = true;
            MsgAppFlowPaused = false;
        }

        Next = Math.Max(Next, index + 1);
        return updated;
    }

    /// <summary>
    /// The follower rejected an append whose previous entry was <paramref name="rejected"/>; move
    /// <see cref="Next"/> back to <paramref name="matchHint"/> + 1. False if the rejection is stale.
    /// </summary>
    public bool MaybeDecrTo(ulong rejected, ulong matchHint)
    {
        if (State == ProgressState.Replicate)
        {
            // In Replicate, Next ran ahead; only a rejection of the entry right after Match is news.
            if (rejected <= Match)
            {
                return false;
            }

            Next = Match + 1;
            return true;
        }

        // In Probe, only the answer to the outstanding probe (previous index Next - 1) counts.
        if (Next - 1 != rejected)
        {
            return false;
        }

        Next = Math.Max(Math.Min(rejected, matchHint + 1), Match + 1);
        MsgAppFlowPaused = false;
        return true;
    }

    /// <summary>Record that an append with <paramref name="entries"/> entries ending at <paramref name="lastIndex"/> was sent.</summary>
    public void SentEntries(int entries, ulong lastIndex, ulong bytes)
    {
        switch (State)
        {
            case ProgressState.Replicate:
                if (entries > 0)
                {
                    Next = lastIndex + 1;
                    Inflights.Add(lastIndex, bytes);
                }

                MsgAppFlowPaused = Inflights.Full;
                break;
            case ProgressState.Probe:
                MsgAppFlowPaused = true;
                break;
            default:
                throw new InvalidOperationException($"Sending entries in state {State}.");
        }
    }

    private void Reset(ProgressState state)
    {
        MsgAppFlowPaused = false;
        PendingSnapshot = 0;
        State = state;
        Inflights.Reset();
    }

    public override string ToString()
    {
        var s = $"{State} match={Match} next={Next}";
        if (IsLearner)
        {
            s += " learner";
        }

        if (State == ProgressState.Snapshot)
        {
            s += $" pendingSnap={PendingSnapshot}";
        }

        if (IsPaused && State != ProgressState.Snapshot)
        {
            s += " paused";
        }

        if (Inflights.Count > 0)
        {
            s += $" inflight={Inflights.Count}";
        }

        return s;
    }
}
