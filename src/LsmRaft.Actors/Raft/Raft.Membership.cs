namespace LsmRaft.Actors.Raft;

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
        Tracker.SetConfig(configs.Current, Log.LastIndex());
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

        if (configs.Current.TryApply(change, out var reason) is null)
        {
            return new RaftResult(RaftResultCode.ConfChangeInvalid, Id, Reason: reason);
        }

        return null;
    }
}
