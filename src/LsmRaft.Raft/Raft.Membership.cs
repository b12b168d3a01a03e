namespace LsmRaft.Raft;

/// <summary>
/// Single-server membership changes (Ongaro thesis §4.1): a configuration takes effect as soon as its entry
/// is in the log, committed or not, and rolls back if that entry is truncated away.
/// </summary>
internal sealed partial class Raft
{
    /// <summary>Record the configurations defined by conf-change entries at or after <paramref name="from"/> in <paramref name="entries"/>; true if any.</summary>
    private bool RecordConfChanges(IReadOnlyList<Entry> entries, ulong from = 0)
    {
        var changed = false;
        for (var i = 0; i < entries.Count; i++)
        {
            var e = entries[i];
            if (e.Type != EntryType.ConfChange || e.Index < from)
            {
                continue;
            }

            var change = ConfChange.Decode(e.Data);
            var next = configs.Current.TryApply(change, out var reason);
            if (next is null)
            {
                // The leader validated this change against the same configuration, so this is unreachable
                // unless the log was written by something else; keep the configuration and say so.
                Info($"ignored conf change {change} at {e.Index}: {reason}");
                next = configs.Current;
            }

            configs.Record(e.Index, next);
            changed = true;
        }

        return changed;
    }

    /// <summary>A follower replaced its log from <paramref name="from"/> on: roll back, then apply the changes of the entries of <paramref name="appended"/> at or after it.</summary>
    private void OnLogTruncatedAndAppended(ulong from, IReadOnlyList<Entry> appended)
    {
        var rolledBack = configs.TruncateFrom(from);
        var recorded = RecordConfChanges(appended, from);
        if (rolledBack || recorded)
        {
            OnConfigChanged();
        }
    }

    private void OnConfigChanged()
    {
        if (Role == RaftRole.Leader)
        {
            // A member this change removes keeps receiving the log until it has heard that the removal
            // committed, so it applies a configuration without itself and its shell can retire it.
            foreach (var id in Tracker.Progress.Keys)
            {
                if (id != Id && !configs.Current.Contains(id) && !departing.ContainsKey(id))
                {
                    departing[id] = new Departure(configs.CurrentIndex);
                }
            }

            // A departing member added back (a replica moved away and back again) starts from nothing: its node
            // may have discarded the group's log and state after hearing of its removal, so what this leader
            // knew of its log (Match, and the commit index heartbeats derive from it) no longer holds.
            foreach (var id in departing.Keys.Where(configs.Current.Contains).ToList())
            {
                departing.Remove(id);
                if ((cfg.Faults & RaftFaultInjection.KeepProgressOfReaddedMember) == 0) // DELIBERATE FAULT when set (simulator self-test only)
                {
                    Tracker.Remove(id);
                }
            }
        }

        Tracker.SetConfig(configs.Current, Log.LastIndex(), departing.Keys);
        Info($"switched to configuration {configs.Current}");
        if (Role != RaftRole.Leader)
        {
            return;
        }

        if (LeadTransferee != None && !Tracker.Config.Voters.Contains(LeadTransferee))
        {
            AbortLeaderTransfer();
        }

        // A smaller quorum may commit entries at once (for example after removing a lagging voter).
        if (MaybeCommit())
        {
            ReleasePendingReadIndexMessages();
            BcastAppend();
        }
    }

    /// <summary>Why the leader may not append <paramref name="change"/> now, or null if it may.</summary>
    private RaftResult? ValidateConfChange(ConfChange change)
    {
        if (pendingConfIndex > Log.Committed)
        {
            // At most one uncommitted change in the log, and none before this leader committed an entry of
            // its term (the fix to the single-server change bug, Ongaro 2015): see docs/raft.md.
            return new RaftResult(RaftResultCode.ConfChangePending, Id, Reason: $"entry {pendingConfIndex} must commit first (commit is {Log.Committed})");
        }

        if (change.NodeId == Id && change.Type != ConfChangeType.AddVoter)
        {
            return new RaftResult(RaftResultCode.ConfChangeInvalid, Id, Reason: "the leader cannot remove or demote itself; transfer leadership first");
        }

        var current = configs.Current;
        var refusal = change.Type switch
        {
            // A voter joins as a learner first: it catches up (from a snapshot that tells it the membership)
            // without counting toward quorums, and only then is promoted.
            ConfChangeType.AddVoter when current.Voters.Contains(change.NodeId) => $"node {change.NodeId} is already a voter",
            ConfChangeType.AddVoter when !current.Learners.Contains(change.NodeId) => $"node {change.NodeId} is not a learner; add it as a learner, let it catch up, then promote it",
            ConfChangeType.AddLearner when current.Learners.Contains(change.NodeId) => $"node {change.NodeId} is already a learner",
            ConfChangeType.RemoveNode when !current.Contains(change.NodeId) => $"node {change.NodeId} is not a member of {current}",
            _ => null,
        };
        if (refusal is not null)
        {
            return new RaftResult(RaftResultCode.ConfChangeInvalid, Id, Reason: refusal);
        }

        if (configs.Current.TryApply(change, out var reason) is null)
        {
            return new RaftResult(RaftResultCode.ConfChangeInvalid, Id, Reason: reason);
        }

        return null;
    }

    /// <summary>True while a membership change this leader appended (or its term's first entry) is uncommitted.</summary>
    public bool ConfChangePending => Role == RaftRole.Leader && pendingConfIndex > Log.Committed;

    /// <summary>
    /// Leader: forget departed members that have been told the removal committed (one full election timeout of
    /// heartbeats carrying a commit index at or past it), that cannot be fed from the log, or that stayed silent.
    /// Called once per election timeout, before CheckQuorum clears the activity flags.
    /// </summary>
    private void PruneDeparting()
    {
        foreach (var (id, departure) in departing.ToList())
        {
            if (Log.Committed < departure.RemovalIndex)
            {
                continue;
            }

            departure.RoundsSinceCommit++;
            var pr = Tracker.Get(id);
            var informed = pr is not null && pr.Match >= departure.RemovalIndex && pr.SentCommit >= departure.RemovalIndex;
            var silent = pr is null || !pr.RecentActive;
            if (departure.GaveUp || (departure.RoundsSinceCommit >= 2 && (informed || silent)) || departure.RoundsSinceCommit >= MaxDepartureRounds)
            {
                Info($"stopped replicating to removed node {id}: {(informed ? "it holds the committed removal" : "it cannot be told")}");
                departing.Remove(id);
                Tracker.Remove(id);
            }
        }
    }

    /// <summary>Election timeouts after a removal commits that a leader keeps trying to tell a slow removed node.</summary>
    private const int MaxDepartureRounds = 10;

    /// <summary>A member removed by an entry of this leader's log, still sent the log so it learns of its removal.</summary>
    private sealed class Departure(ulong removalIndex)
    {
        public ulong RemovalIndex { get; } = removalIndex;

        public int RoundsSinceCommit { get; set; }

        /// <summary>It needs entries the log no longer has; a snapshot cannot help (it would not contain it).</summary>
        public bool GaveUp { get; set; }
    }
}
