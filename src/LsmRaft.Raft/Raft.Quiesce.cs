namespace LsmRaft.Raft;

/// <summary>
/// Quiescence (CockroachDB's idea): an idle group stops its timers, so it sends no heartbeats and its followers
/// start no elections. Only timers stop; votes, commits and every message are handled by the same rules, so
/// safety is unchanged. docs/raft.md, "Quiescence", has the rule and the liveness argument.
/// </summary>
internal sealed partial class Raft
{
    /// <summary>
    /// True while this node's timers are stopped: a leader sends no heartbeats and runs no quorum check, a follower
    /// does not advance its election timer. Invariant: only a leader or a follower is quiesced, and a quiesced leader
    /// holds no lease (<see cref="LeaseValid"/>).
    /// </summary>
    public bool Quiesced { get; private set; }

    /// <summary>Leader only: consecutive ticks at which the group was idle.</summary>
    private int idleTicks;

    /// <summary>
    /// The leader's idleness test: nothing is left to replicate, commit, apply or confirm. Every member (voters,
    /// learners and the leader itself) holds the whole log, the whole log is committed (so its last entry is of this
    /// term) and applied here, and no read, transfer, membership change, departure or snapshot is under way.
    /// </summary>
    private bool GroupIdle()
    {
        var last = Log.LastIndex();
        if (Role != RaftRole.Leader || LeadTransferee != None || departing.Count > 0 || pendingAppends.Count > 0
            || readOnly.PendingCount > 0 || pendingReadIndexMessages.Count > 0 || SnapshotRequested
            || Log.Committed != last || Log.Applied != last || !CommittedEntryInCurrentTerm || pendingConfIndex > last)
        {
            return false;
        }

        foreach (var (_, pr) in Tracker.Progress)
        {
            if (pr.Match != last || pr.State != ProgressState.Replicate)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Leader tick: after <see cref="RaftConfig.QuiesceAfterTicks"/> idle ticks, quiesce. True when it did.</summary>
    private bool MaybeQuiesce()
    {
        if (cfg.QuiesceAfterTicks == 0)
        {
            return false;
        }

        if (!GroupIdle())
        {
            idleTicks = 0;
            return false;
        }

        if (++idleTicks < cfg.QuiesceAfterTicks)
        {
            return false;
        }

        Info($"quiescing: idle for {idleTicks} ticks at index {Log.LastIndex()}");
        Quiesced = true;
        idleTicks = 0;
        var ids = Tracker.Ids;
        for (var i = 0; i < ids.Count; i++)
        {
            if (ids[i] != Id)
            {
                SendHeartbeat(ids[i], null, quiesce: true);
            }
        }

        return true;
    }

    /// <summary>
    /// A tick while quiesced. A leader wakes when the group stopped being idle without a message saying so (a send
    /// reported unreachable, a snapshot status). A follower wakes when the oracle reports its leader not live.
    /// </summary>
    private void TickQuiesced()
    {
        if (Role == RaftRole.Leader)
        {
            if (!GroupIdle())
            {
                Wake("the group is no longer idle");
            }

            return;
        }

        if (Lead == None || (cfg.IsNodeLive is { } live && !live(Lead)))
        {
            Wake($"leader {Lead} is not live");
        }
    }

    /// <summary>
    /// Whether <paramref name="m"/> leaves a quiesced leader asleep: acknowledgements of its own term that ask for
    /// nothing (answers to the heartbeats and appends it sent before quiescing). A rejected heartbeat response means
    /// a follower refused to quiesce and wakes the leader; so does everything else.
    /// </summary>
    private bool KeepsLeaderQuiesced(Message m) =>
        m.Type is MessageType.Unreachable or MessageType.SnapStatus
        || (m.Term == Term && m.Type switch
        {
            MessageType.HeartbeatResp => !m.Reject && m.Context is not { Length: > 0 },
            MessageType.AppResp => !m.Reject,
            _ => false,
        });

    /// <summary>
    /// Resume the timers. A leader starts a fresh quorum-check window (no follower counts as recently active until
    /// it answers again), forgets the acknowledgements its lease stood on (a lease is earned anew by heartbeats sent
    /// after waking) and heartbeats at its next tick; a follower restarts its election timeout.
    /// </summary>
    private void Wake(string why)
    {
        if (!Quiesced)
        {
            return;
        }

        Info($"waking: {why}");
        Quiesced = false;
        idleTicks = 0;
        electionElapsed = 0;
        if (Role == RaftRole.Leader)
        {
            heartbeatElapsed = cfg.HeartbeatTicks - 1;
            foreach (var (id, pr) in Tracker.Progress)
            {
                if (id != Id)
                {
                    pr.RecentActive = false;
                    pr.LeaseAckTick = -1;
                }
            }
        }
    }

    /// <summary>
    /// Follower: the leader's quiesce heartbeat (already stepped as a heartbeat: commit advanced, timer reset).
    /// Quiesce when this log ends exactly at the leader's commit index with an entry of the leader's term — then,
    /// by the Log Matching property, it equals the leader's whole log and everything in it is committed — and answer
    /// nothing. Otherwise refuse with a rejected heartbeat response, which wakes the leader.
    /// </summary>
    private void HandleQuiesce(Message m)
    {
        if (Log.LastIndex() == m.Commit && Log.Committed == m.Commit && Log.LastTerm() == m.Term)
        {
            Quiesced = true;
            return;
        }

        Info($"refused to quiesce: log ends at {Log.LastIndex()}/{Log.LastTerm()}, commit {Log.Committed}, leader's commit {m.Commit} at term {m.Term}");
        Send(new Message { Type = MessageType.HeartbeatResp, From = Id, To = m.From, Term = Term, Index = m.Index, Reject = true });
    }
}
