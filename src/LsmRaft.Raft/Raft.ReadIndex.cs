namespace LsmRaft.Raft;

/// <summary>Linearizable reads: read index confirmed by a heartbeat round, or by a leader lease.</summary>
internal sealed partial class Raft
{
    /// <summary>A leader knows the true commit index only once it has committed an entry of its own term.</summary>
    internal bool CommittedEntryInCurrentTerm => Log.TermOrZero(Log.Committed) == Term;

    private void HandleReadIndexAsLeader(Message m)
    {
        if (Tracker.IsSingleton)
        {
            // The only voter: its commit index is authoritative without asking anyone.
            RespondToReadIndex(m, Log.Committed);
            return;
        }

        if (!CommittedEntryInCurrentTerm)
        {
            // Until the no-op of this term commits, earlier leaders' entries may be committed without this
            // leader knowing; answer once it commits (see ReleasePendingReadIndexMessages).
            pendingReadIndexMessages.Add(m);
            return;
        }

        SendReadIndexResponse(m);
    }

    private void SendReadIndexResponse(Message m)
    {
        if (cfg.ReadOnlyOption == ReadOnlyOption.LeaseBased && LeaseValid())
        {
            RespondToReadIndex(m, Log.Committed);
            return;
        }

        // The read index is the commit index at arrival; it becomes servable once a quorum acknowledges a
        // heartbeat sent after arrival, proving no other leader had been elected by then.
        readOnly.AddRequest(Log.Committed, m);
        readOnly.RecvAck(Id, m.Context!);
        BcastHeartbeat(m.Context);
    }

    private void ReleasePendingReadIndexMessages()
    {
        if (pendingReadIndexMessages.Count == 0 || !CommittedEntryInCurrentTerm)
        {
            return;
        }

        var pending = pendingReadIndexMessages.ToArray();
        pendingReadIndexMessages.Clear();
        foreach (var m in pending)
        {
            SendReadIndexResponse(m);
        }
    }

    private void RespondToReadIndex(Message request, ulong index)
    {
        if (request.From == None || request.From == Id)
        {
            readStates.Add(new ReadState(index, request.Context ?? []));
            return;
        }

        Send(new Message { Type = MessageType.ReadIndexResp, To = request.From, Index = index, Context = request.Context });
    }

    /// <summary>
    /// True while no other leader can have been elected. A quorum acknowledged heartbeats sent at leader tick
    /// <c>s</c> or later; each acknowledging voter reset its election timer on receipt and, with CheckQuorum,
    /// refuses votes for ElectionTicks of its own ticks. With follower clocks at most <c>MaxClockDrift</c>
    /// faster, that covers leader ticks up to <c>s + (ElectionTicks - 1) / (1 + drift) - 1</c>
    /// (one tick lost to each side's granularity). docs/raft.md has the derivation.
    /// </summary>
    public bool LeaseValid()
    {
        // A quiesced leader stopped its quorum checks, so it holds no lease; a read wakes it and uses ReadIndex.
        if (Role != RaftRole.Leader || !cfg.CheckQuorum || LeadTransferee != None || Quiesced)
        {
            return false;
        }

        var since = Tracker.QuorumValue(id => id == Id ? tickCount : Tracker.Get(id)?.LeaseAckTick ?? -1);
        if (since < 0)
        {
            return false;
        }

        return (tickCount + 1 - since) * (1 + cfg.MaxClockDrift) <= cfg.ElectionTicks - 1;
    }
}
