namespace LsmRaft.Raft;

/// <summary>Requests from the local shell: proposals, reads, transfers, reports.</summary>
internal sealed partial class Raft
{
    public RaftResult Propose(EntryType type, byte[] data)
    {
        Wake("a proposal");
        if (Role != RaftRole.Leader)
        {
            return RaftResult.NotLeader(Lead);
        }

        if (LeadTransferee != None)
        {
            return new RaftResult(RaftResultCode.LeaderTransferInProgress, Id, Reason: $"transferring leadership to {LeadTransferee}");
        }

        if (type == EntryType.ConfChange && ValidateConfChange(ConfChange.Decode(data)) is { } refusal)
        {
            return refusal;
        }

        var entry = AppendEntries([new Entry(0, 0, type, data)]);
        if (type == EntryType.ConfChange)
        {
            pendingConfIndex = entry.Index;
        }

        ReleasePendingReadIndexMessages();
        BcastAppend();
        return RaftResult.Accepted(entry.Index, entry.Term);
    }

    public RaftResult ReadIndex(byte[] context)
    {
        if (context.Length == 0)
        {
            throw new ArgumentException("A read-index context must be non-empty and unique among pending reads.", nameof(context));
        }

        Wake("a read");
        var request = new Message { Type = MessageType.ReadIndex, From = Id, Context = context };
        switch (Role)
        {
            case RaftRole.Leader:
                HandleReadIndexAsLeader(request);
                return RaftResult.Accepted();
            case RaftRole.Follower when Lead != None:
                Send(request with { To = Lead });
                return RaftResult.Accepted();
            default:
                return RaftResult.NotLeader(Lead);
        }
    }

    public RaftResult TransferLeader(ulong transferee)
    {
        Wake("a leadership transfer");
        var target = Tracker.Get(transferee);
        if (target is null || target.IsLearner)
        {
            return new RaftResult(RaftResultCode.InvalidTransferee, Lead, Reason: $"{transferee} is not a voter");
        }

        switch (Role)
        {
            case RaftRole.Leader when transferee == Id:
                return new RaftResult(RaftResultCode.InvalidTransferee, Id, Reason: "already the leader");
            case RaftRole.Leader:
                StartLeaderTransfer(transferee);
                return RaftResult.Accepted();
            case RaftRole.Follower when Lead != None:
                Send(new Message { Type = MessageType.TransferLeader, From = transferee, To = Lead });
                return RaftResult.Accepted();
            default:
                return RaftResult.NotLeader(Lead);
        }
    }
}
