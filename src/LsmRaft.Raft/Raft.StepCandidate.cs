namespace LsmRaft.Raft;

/// <summary>Pre-candidate and candidate behaviour.</summary>
internal sealed partial class Raft
{
    private void StepCandidate(Message m)
    {
        var myResponse = Role == RaftRole.PreCandidate ? MessageType.PreVoteResp : MessageType.VoteResp;
        switch (m.Type)
        {
            case MessageType.App:
                // A leader of our term exists (§5.2): step down and follow it.
                BecomeFollower(m.Term, m.From);
                HandleAppendEntries(m);
                break;
            case MessageType.Heartbeat:
                BecomeFollower(m.Term, m.From);
                HandleHeartbeat(m);
                break;
            case MessageType.Snap:
                BecomeFollower(m.Term, m.From);
                HandleSnapshot(m);
                break;
            case var t when t == myResponse:
                switch (Poll(m.From, m.Type, !m.Reject))
                {
                    case VoteResult.Won when Role == RaftRole.PreCandidate:
                        Campaign(CampaignType.Election);
                        break;
                    case VoteResult.Won:
                        BecomeLeader();
                        BcastAppend();
                        break;
                    case VoteResult.Lost:
                        // A rejected pre-vote carries the rejecter's term, which may be ours: stay in it.
                        BecomeFollower(Term, None);
                        break;
                }

                break;
            case MessageType.TimeoutNow:
                Info($"ignored TimeoutNow from {m.From}: already campaigning");
                break;
            default:
                Info($"dropped {m.Type} from {m.From}: no leader known");
                break;
        }
    }
}
