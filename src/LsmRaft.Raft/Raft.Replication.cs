namespace LsmRaft.Raft;

/// <summary>The leader's side of log replication: appending, sending appends, snapshots and heartbeats, committing.</summary>
internal sealed partial class Raft
{
    /// <summary>
    /// Append new entries to the leader's log (assigning term and index), count them on the leader's own
    /// progress, switch configuration for conf changes (§4.1) and commit if a quorum allows. Returns the last entry.
    /// </summary>
    private Entry AppendEntries(IReadOnlyList<Entry> entries)
    {
        var index = Log.LastIndex();
        var stamped = new Entry[entries.Count];
        for (var i = 0; i < entries.Count; i++)
        {
            stamped[i] = new Entry(Term, ++index, entries[i].Type, entries[i].Data);
        }

        Log.Append(stamped);
        if (!cfg.AsyncLeaderPersist)
            Tracker.Get(Id)!.MaybeUpdate(Log.LastIndex());
        if (RecordConfChanges(stamped))
        {
            OnConfigChanged();
        }

        MaybeCommit();
        return stamped[^1];
    }

    /// <summary>
    /// With <see cref="RaftConfig.AsyncLeaderPersist"/>: the shell made the leader's log durable through
    /// <paramref name="index"/>; count it toward the quorum and tell followers if the commit index moved.
    /// </summary>
    internal void OnSelfPersisted(ulong index)
    {
        if (!cfg.AsyncLeaderPersist || Role != RaftRole.Leader)
            return;
        if (Tracker.Get(Id) is { } self && self.MaybeUpdate(index) && MaybeCommit())
            BcastAppend();
    }

    /// <summary>Commit the largest index a quorum holds, if it is from the current term (§5.4.2).</summary>
    private bool MaybeCommit()
    {
        var index = Tracker.Committed();
        if ((cfg.Faults & RaftFaultInjection.CommitOldTermByCounting) != 0 && index > Log.Committed)
        {
            // DELIBERATE FAULT (simulator self-test only): commit by counting replicas whatever the entry's term.
            Log.CommitTo(index);
            return true;
        }

        return Log.MaybeCommit(index, Term);
    }

    private void BcastAppend()
    {
        var ids = Tracker.Ids;
        for (var i = 0; i < ids.Count; i++)
        {
            if (ids[i] != Id)
            {
                QueueAppend(ids[i], sendIfEmpty: true);
            }
        }
    }

    /// <summary>
    /// Send appends to <paramref name="to"/> now, or, with <see cref="RaftConfig.CoalesceAppends"/>, when the
    /// messages are next taken (<see cref="FlushAppends"/>): whatever entries and commit index the log holds by
    /// then go out in as few messages as flow control allows, instead of one message per proposal or per
    /// acknowledgement. <paramref name="sendIfEmpty"/>: send even without new entries (to carry the commit index).
    /// </summary>
    private void QueueAppend(ulong to, bool sendIfEmpty)
    {
        if (!cfg.CoalesceAppends)
        {
            MaybeSendAppend(to, sendIfEmpty);
            return;
        }

        for (var i = 0; i < pendingAppends.Count; i++)
        {
            if (pendingAppends[i].To == to)
            {
                pendingAppends[i] = (to, sendIfEmpty || pendingAppends[i].SendIfEmpty);
                return;
            }
        }

        pendingAppends.Add((to, sendIfEmpty));
    }

    /// <summary>
    /// Sends the appends queued by <see cref="QueueAppend"/>: per follower, the entries it lacks (as many
    /// messages as its inflight window allows) and, if it still has not heard of a commit index up to its
    /// match, an append carrying it. Nothing is sent when this node stopped leading meanwhile.
    /// </summary>
    private void FlushAppends()
    {
        if (pendingAppends.Count == 0)
        {
            return;
        }

        if (Role == RaftRole.Leader)
        {
            for (var i = 0; i < pendingAppends.Count; i++)
            {
                var (to, sendIfEmpty) = pendingAppends[i];
                MaybeSendAppend(to, sendIfEmpty);
                while (MaybeSendAppend(to, sendIfEmpty: false))
                {
                }

                if (Tracker.Get(to) is { } pr && Math.Min(Log.Committed, pr.Match) > pr.SentCommit)
                {
                    SendAppend(to);
                }
            }
        }

        pendingAppends.Clear();
    }

    private void SendAppend(ulong to) => MaybeSendAppend(to, sendIfEmpty: true);

    /// <summary>
    /// Send the next append to <paramref name="to"/> if its flow control allows; an empty one (to carry the
    /// commit index or probe) only if <paramref name="sendIfEmpty"/>. Falls back to a snapshot when the entries
    /// it needs are compacted. Returns true if a message was sent.
    /// </summary>
    private bool MaybeSendAppend(ulong to, bool sendIfEmpty)
    {
        var pr = Tracker.Get(to);
        if (pr is null || pr.IsPaused)
        {
            return false;
        }

        var prevIndex = pr.Next - 1;
        if (pr.Next < Log.FirstIndex() || !Log.TryTerm(prevIndex, out var prevTerm))
        {
            return MaybeSendSnapshot(to, pr);
        }

        var entries = Log.EntriesFrom(pr.Next, cfg.MaxSizePerMsg);
        if (entries.Count == 0 && !sendIfEmpty)
        {
            return false;
        }

        Send(new Message
        {
            Type = MessageType.App,
            From = Id,
            Term = Term,
            To = to,
            Index = prevIndex,
            LogTerm = prevTerm,
            Entries = entries,
            Commit = Log.Committed,
        });
        var lastSent = entries.Count > 0 ? entries[^1].Index : prevIndex;
        pr.SentEntries(entries.Count, lastSent, LogEntries.Size(entries));
        pr.SentCommit = Math.Max(pr.SentCommit, Math.Min(Log.Committed, lastSent));
        return true;
    }

    private bool MaybeSendSnapshot(ulong to, Progress pr)
    {
        if (!pr.RecentActive)
        {
            // Building and shipping a snapshot is expensive; do not do it for a node that may be down.
            Info($"ignored sending snapshot to {to}: not recently active");
            return false;
        }

        RaftSnapshot snapshot;
        try
        {
            snapshot = Log.Snapshot();
        }
        catch (SnapshotTemporarilyUnavailableException)
        {
            Info($"failed to send snapshot to {to}: temporarily unavailable");
            return false;
        }

        if (departing.TryGetValue(to, out var departure))
        {
            // A removed node would refuse a snapshot without itself; it stays uninformed (harmless: see docs/raft.md).
            departure.GaveUp = true;
            return false;
        }

        if (snapshot.Index == 0 || !snapshot.Metadata.ConfState.Contains(to))
        {
            // Index 0 carries no state (a follower that knows no configuration asked, and nothing was compacted);
            // a snapshot from before `to` joined would be refused by it. Either way the shell must take a new one;
            // the next heartbeat response retries.
            Info($"needs a new snapshot for {to}: the latest is at {snapshot.Index} with {snapshot.Metadata.ConfState}");
            SnapshotRequested = true;
            return false;
        }

        Info($"[firstindex {Log.FirstIndex()}, commit {Log.Committed}] sent snapshot [index {snapshot.Index}, term {snapshot.Term}] to {to} [{pr}]");
        pr.BecomeSnapshot(snapshot.Index);

        // Installing the snapshot commits up to its index on the follower.
        pr.SentCommit = Math.Max(pr.SentCommit, snapshot.Index);
        Send(new Message { Type = MessageType.Snap, To = to, Snapshot = snapshot });
        return true;
    }

    private void BcastHeartbeat() => BcastHeartbeat(readOnly.LastPendingContext());

    private void BcastHeartbeat(byte[]? context)
    {
        var ids = Tracker.Ids;
        for (var i = 0; i < ids.Count; i++)
        {
            if (ids[i] != Id)
            {
                SendHeartbeat(ids[i], context, quiesce: false);
            }
        }
    }

    private void SendHeartbeat(ulong to, byte[]? context, bool quiesce)
    {
        // A follower may not have the leader's committed entries yet; never tell it to commit past its match.
        var pr = Tracker.Get(to)!;
        var commit = Math.Min(pr.Match, Log.Committed);
        pr.SentCommit = Math.Max(pr.SentCommit, commit);
        Send(new Message
        {
            Type = MessageType.Heartbeat,
            From = Id,
            Term = Term,
            To = to,
            Commit = commit,
            Context = context,
            Index = (ulong)tickCount,
            Quiesce = quiesce,
        });
    }
}
