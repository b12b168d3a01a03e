namespace LsmRaft.Raft;

/// <summary>Follower behaviour (learners are followers that never campaign).</summary>
internal sealed partial class Raft
{
    private void StepFollower(Message m)
    {
        switch (m.Type)
        {
            case MessageType.App:
                electionElapsed = 0;
                Lead = m.From;
                HandleAppendEntries(m);
                break;
            case MessageType.Heartbeat:
                electionElapsed = 0;
                Lead = m.From;
                HandleHeartbeat(m);
                break;
            case MessageType.Snap:
                electionElapsed = 0;
                Lead = m.From;
                HandleSnapshot(m);
                break;
            case MessageType.TransferLeader or MessageType.ReadIndex:
                if (Lead == None)
                {
                    Info($"dropped {m.Type} from {m.From}: no leader known");
                    return;
                }

                Send(m with { To = Lead });
                break;
            case MessageType.ReadIndexResp:
                readStates.Add(new ReadState(m.Index, m.Context ?? []));
                break;
            case MessageType.TimeoutNow:
                Info($"received TimeoutNow from {m.From}: campaigning to take over leadership at term {Term + 1}");
                Hup(CampaignType.Transfer);
                break;
            default:
                break;
        }
    }

    private void HandleAppendEntries(Message m)
    {
        if (configs.Current.Voters.IsEmpty)
        {
            // A replica created empty knows no configuration. The group's initial one was given out of band, not
            // logged, so replaying the log from index 1 would build a wrong one (e.g. voters={self} after "v self"):
            // refuse entries until a snapshot, which carries the configuration, is installed. A rejection at index 0
            // tells the leader so (every other log matches there).
            Info($"rejected App [index {m.Index}] from {m.From}: no configuration known, a snapshot is needed");
            Send(new Message { Type = MessageType.AppResp, To = m.From, Index = Math.Min(m.Index, Log.LastIndex()), Reject = true });
            return;
        }

        if (m.Index < Log.Committed)
        {
            // Everything up to our commit index is known to match; tell the leader where to resume.
            Send(new Message { Type = MessageType.AppResp, To = m.From, Index = Log.Committed });
            return;
        }

        var lastNew = Log.MaybeAppend(m.Index, m.LogTerm, m.Commit, m.Entries, out var conflict);
        if (lastNew is { } last)
        {
            if (conflict != 0)
            {
                OnLogTruncatedAndAppended(conflict, m.Entries);
            }

            Send(new Message { Type = MessageType.AppResp, From = Id, To = m.From, Term = Term, Index = last });
            return;
        }

        // §5.3: our log lacks (m.Index, m.LogTerm). Hint the largest index whose term is at most m.LogTerm:
        // every entry above it has a larger term and so cannot match the leader's entry at m.Index.
        var hintIndex = Math.Min(m.Index, Log.LastIndex());
        var (index, term) = Log.FindConflictByTerm(hintIndex, m.LogTerm);
        Info($"[logterm {Log.TermOrZero(m.Index)}, index {m.Index}] rejected App [logterm {m.LogTerm}, index {m.Index}] from {m.From}, hint {index}/{term}");
        Send(new Message
        {
            Type = MessageType.AppResp,
            To = m.From,
            Index = m.Index,
            Reject = true,
            RejectHint = index,
            LogTerm = term,
        });
    }

    private void HandleHeartbeat(Message m)
    {
        // The leader sends min(match, committed), so the commit index fits this log, unless the log is shorter than
        // the match the leader knew: this node's replica was retired (its log forgotten) and created again, and a
        // heartbeat sent before that arrives late. Clamping to the last index is then safe: this node's term is the
        // heartbeat's (older-term messages are refused), and a node of term T accepts entries only from T's one
        // leader, after the log-matching check, and snapshots of committed state; so its log is a prefix of that
        // leader's log, which never shrinks within the term, and every entry of it at or below the heartbeat's
        // commit index is committed. Test: MembershipTests.A_late_heartbeat_to_a_member_created_again_commits_no_further_than_its_log.
        Log.CommitTo(Math.Min(m.Commit, Log.LastIndex()));
        if (m.Quiesce)
        {
            HandleQuiesce(m);
            return;
        }

        Send(new Message { Type = MessageType.HeartbeatResp, From = Id, To = m.From, Term = Term, Context = m.Context, Index = m.Index });
    }

    private void HandleSnapshot(Message m)
    {
        var snapshot = m.Snapshot ?? throw new InvalidOperationException($"Snap message from {m.From} carries no snapshot.");
        if (Restore(snapshot))
        {
            Info($"[commit {Log.Committed}] restored snapshot [index {snapshot.Index}, term {snapshot.Term}]");
            Send(new Message { Type = MessageType.AppResp, To = m.From, Index = Log.LastIndex() });
        }
        else
        {
            Info($"[commit {Log.Committed}] ignored snapshot [index {snapshot.Index}, term {snapshot.Term}]");
            Send(new Message { Type = MessageType.AppResp, To = m.From, Index = Log.Committed });
        }
    }

    /// <summary>Replace our log by <paramref name="snapshot"/> if it is news. True if the log was replaced.</summary>
    private bool Restore(RaftSnapshot snapshot)
    {
        if (snapshot.Index <= Log.Committed)
        {
            return false;
        }

        if (!snapshot.Metadata.ConfState.Contains(Id))
        {
            // Installing it would leave us outside our own configuration; a newer snapshot will include us.
            Info($"ignored snapshot {snapshot.Index}: not a member of {snapshot.Metadata.ConfState}");
            return false;
        }

        if (Log.MatchTerm(snapshot.Index, snapshot.Term))
        {
            // We already hold the snapshot's last entry, so the log up to it matches: just commit.
            Log.CommitTo(snapshot.Index);
            return false;
        }

        Log.Restore(snapshot);
        configs.Reset(snapshot.Index, snapshot.Metadata.ConfState);
        Tracker.SetConfig(snapshot.Metadata.ConfState, Log.LastIndex());
        return true;
    }
}
