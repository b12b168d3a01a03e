namespace LsmRaft.Raft;

/// <summary>Message dispatch common to every role: term comparison, elections and voting.</summary>
internal sealed partial class Raft
{
    public void Step(Message m)
    {
        if (Quiesced && (Role != RaftRole.Leader || !KeepsLeaderQuiesced(m)))
        {
            // A follower wakes on any message (a quiesce heartbeat puts it back to sleep); a leader on anything but
            // plain acknowledgements. Waking only restarts timers, so it is always safe.
            Wake($"{m.Type} from {m.From} at term {m.Term}");
        }

        if (m.Term > Term && !StepHigherTerm(m))
        {
            return;
        }

        if (m.Term != 0 && m.Term < Term)
        {
            StepLowerTerm(m);
            return;
        }

        switch (m.Type)
        {
            case MessageType.Hup:
                Hup(cfg.PreVote ? CampaignType.PreElection : CampaignType.Election);
                return;
            case MessageType.Vote or MessageType.PreVote:
                StepVoteRequest(m);
                return;
        }

        switch (Role)
        {
            case RaftRole.Leader:
                StepLeader(m);
                break;
            case RaftRole.Candidate or RaftRole.PreCandidate:
                StepCandidate(m);
                break;
            default:
                StepFollower(m);
                break;
        }
    }

    /// <summary>A message from a later term. Returns false when it must be ignored.</summary>
    private bool StepHigherTerm(Message m)
    {
        if (m.Type is MessageType.Vote or MessageType.PreVote)
        {
            var force = m.Context is { } ctx && ctx.AsSpan().SequenceEqual(CampaignTransferContext);

            // With CheckQuorum a node that heard from a leader within an election timeout refuses to help
            // depose it: this is what makes leader leases sound. A freshly started node cannot know whether
            // it acknowledged a leader just before it restarted, so with lease reads it waits one timeout too.
            var leaderRecentlySeen = Lead != None || (cfg.ReadOnlyOption == ReadOnlyOption.LeaseBased && tickCount < cfg.ElectionTicks);
            var inLease = cfg.CheckQuorum && leaderRecentlySeen && electionElapsed < cfg.ElectionTicks;
            if (!force && inLease)
            {
                Info($"ignored {m.Type} from {m.From} at term {m.Term}: leader {Lead} seen {electionElapsed} ticks ago (lease)");
                return false;
            }
        }

        switch (m.Type)
        {
            case MessageType.PreVote:
                // A pre-vote request proposes a future term; answering it must not change ours.
                break;
            case MessageType.PreVoteResp when !m.Reject:
                // Granted pre-votes carry the future term; the term changes only once a quorum grants them.
                break;
            case MessageType.App or MessageType.Heartbeat or MessageType.Snap:
                Info($"received {m.Type} from {m.From} at higher term {m.Term}");
                BecomeFollower(m.Term, m.From);
                break;
            default:
                Info($"received {m.Type} from {m.From} at higher term {m.Term}");
                BecomeFollower(m.Term, None);
                break;
        }

        return true;
    }

    private void StepLowerTerm(Message m)
    {
        if ((cfg.CheckQuorum || cfg.PreVote) && m.Type is MessageType.Heartbeat or MessageType.App)
        {
            // A stale leader (partitioned, now healed) would otherwise never learn the new term when its
            // followers ignore its messages, because with pre-vote or check-quorum nobody disrupts it.
            Send(new Message { Type = MessageType.AppResp, To = m.From });
        }
        else if (m.Type == MessageType.PreVote)
        {
            // Tell the pre-candidate our term, so it does not wait out its whole election timeout.
            Send(new Message { Type = MessageType.PreVoteResp, To = m.From, Term = Term, Reject = true });
        }
    }

    private void StepVoteRequest(Message m)
    {
        var response = m.Type == MessageType.Vote ? MessageType.VoteResp : MessageType.PreVoteResp;

        // §5.2: one vote per term. We may repeat a vote we already cast, vote if we have not voted and know of
        // no leader, or grant a pre-vote for a future term (which commits us to nothing).
        var canVote = Vote == m.From
            || (Vote == None && Lead == None)
            || (m.Type == MessageType.PreVote && m.Term > Term)
            || ((cfg.Faults & RaftFaultInjection.GrantTwoVotesPerTerm) != 0 && m.Type == MessageType.Vote); // DELIBERATE FAULT (simulator self-test only)

        // §5.4.1: only for a candidate whose log is at least as up to date as ours.
        if (canVote && Log.IsUpToDate(m.Index, m.LogTerm))
        {
            Info($"[logterm {Log.LastTerm()}, index {Log.LastIndex()}, vote {Vote}] cast {m.Type} for {m.From} [logterm {m.LogTerm}, index {m.Index}] at term {Term}");
            Send(new Message { Type = response, To = m.From, Term = m.Term });
            if (m.Type == MessageType.Vote)
            {
                electionElapsed = 0;
                Vote = m.From;
            }
        }
        else
        {
            Info($"[logterm {Log.LastTerm()}, index {Log.LastIndex()}, vote {Vote}] rejected {m.Type} from {m.From} [logterm {m.LogTerm}, index {m.Index}] at term {Term}");
            Send(new Message { Type = response, To = m.From, Term = Term, Reject = true });
        }
    }

    private void Hup(CampaignType type)
    {
        if (Role == RaftRole.Leader)
        {
            return;
        }

        if (!Promotable)
        {
            Info("is not a voter and cannot campaign");
            return;
        }

        Campaign(type);
    }

    private void Campaign(CampaignType type)
    {
        ulong term;
        MessageType voteType;
        if (type == CampaignType.PreElection)
        {
            BecomePreCandidate();
            voteType = MessageType.PreVote;
            term = Term + 1;
        }
        else
        {
            BecomeCandidate();
            voteType = MessageType.Vote;
            term = Term;
        }

        var responseType = voteType == MessageType.Vote ? MessageType.VoteResp : MessageType.PreVoteResp;
        if (Poll(Id, responseType, granted: true) == VoteResult.Won)
        {
            // A single-voter group wins at once.
            if (type == CampaignType.PreElection)
            {
                Campaign(CampaignType.Election);
            }
            else
            {
                BecomeLeader();
            }

            return;
        }

        var lastIndex = Log.LastIndex();
        var lastTerm = Log.LastTerm();
        foreach (var id in Tracker.Config.Voters)
        {
            if (id == Id)
            {
                continue;
            }

            Info($"[logterm {lastTerm}, index {lastIndex}] sent {voteType} request to {id} at term {term}");
            Send(new Message
            {
                Type = voteType,
                To = id,
                Term = term,
                Index = lastIndex,
                LogTerm = lastTerm,
                Context = type == CampaignType.Transfer ? CampaignTransferContext : null,
            });
        }
    }

    private VoteResult Poll(ulong id, MessageType type, bool granted)
    {
        Info(granted ? $"received {type} from {id} at term {Term}" : $"received {type} rejection from {id} at term {Term}");
        Tracker.RecordVote(id, granted);
        var (g, r, result) = Tracker.TallyVotes();
        if (id != Id)
        {
            Info($"has received {g} {type} votes and {r} vote rejections");
        }

        return result;
    }
}
