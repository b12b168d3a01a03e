namespace LsmRaft.Raft;

/// <summary>Leader behaviour: answers from followers, quorum checks, transfers.</summary>
internal sealed partial class Raft
{
    private void StepLeader(Message m)
    {
        switch (m.Type)
        {
            case MessageType.Beat:
                BcastHeartbeat();
                return;
            case MessageType.CheckQuorum:
                CheckQuorum();
                return;
            case MessageType.ReadIndex:
                HandleReadIndexAsLeader(m);
                return;
            case MessageType.TransferLeader:
                StartLeaderTransfer(m.From);
                return;
        }

        var pr = Tracker.Get(m.From);
        if (pr is null)
        {
            Info($"ignored {m.Type} from {m.From}: not a member");
            return;
        }

        switch (m.Type)
        {
            case MessageType.AppResp:
                HandleAppendResponse(m, pr);
                break;
            case MessageType.HeartbeatResp:
                HandleHeartbeatResponse(m, pr);
                break;
            case MessageType.SnapStatus:
                if (pr.State != ProgressState.Snapshot)
                {
                    return;
                }

                Info(m.Reject
                    ? $"snapshot to {m.From} failed, resuming probing: {pr}"
                    : $"snapshot to {m.From} succeeded, resuming probing: {pr}");
                pr.BecomeProbe(snapshotDelivered: !m.Reject);

                // Wait for the next heartbeat response before probing: the snapshot may still be in flight.
                pr.MsgAppFlowPaused = true;
                break;
            case MessageType.Unreachable:
                // Appends may have been lost; stop pipelining and probe instead.
                if (pr.State == ProgressState.Replicate)
                {
                    pr.BecomeProbe(snapshotDelivered: false);
                }

                break;
        }
    }

    private void CheckQuorum()
    {
        if (!Tracker.QuorumActive(Id))
        {
            Info("stepped down: a quorum of voters was not active within the election timeout");
            BecomeFollower(Term, None);
            return;
        }

        foreach (var (id, pr) in Tracker.Progress)
        {
            if (id != Id)
            {
                pr.RecentActive = false;
            }
        }
    }

    private void HandleAppendResponse(Message m, Progress pr)
    {
        pr.RecentActive = true;
        if (m.Reject && m.Index == 0)
        {
            // Every log matches at index 0, so only a follower that knows no configuration rejects it (a new
            // replica created empty): entries alone cannot tell it the membership, a snapshot must. One whose
            // entries this leader counted has lost them (a replica created again under its id): forget its match, or
            // the leader would go on counting entries it does not hold and never resend them. (A reordered copy of an
            // early rejection does the same to a healthy follower: it costs a probe, never safety.)
            if (pr.Match > 0)
            {
                Info($"{m.From} knows no configuration although it acknowledged entries up to {pr.Match}: its log is gone, forgetting its match");
                pr.ForgetMatch();
            }

            if (pr.State == ProgressState.Replicate)
            {
                pr.BecomeProbe(snapshotDelivered: false);
            }

            if (pr.State == ProgressState.Probe)
            {
                MaybeSendSnapshot(m.From, pr);
            }

            return;
        }

        if (m.Reject)
        {
            // The rejected append did not reach the follower's commit logic.
            pr.SentCommit = Math.Min(pr.SentCommit, pr.Match);
            var next = m.RejectHint;
            if (m.LogTerm > 0)
            {
                // The follower's entry at RejectHint has term LogTerm; our entries above our last index with a
                // term <= LogTerm cannot match it, so jump there directly.
                next = Log.FindConflictByTerm(m.RejectHint, m.LogTerm).Index;
            }

            if (pr.MaybeDecrTo(m.Index, next))
            {
                Info($"decreased progress of {m.From} to [{pr}]");
                if (pr.State == ProgressState.Replicate)
                {
                    pr.BecomeProbe(snapshotDelivered: false);
                }

                SendAppend(m.From);
            }

            return;
        }

        if (!pr.MaybeUpdate(m.Index) && !(pr.Match == m.Index && pr.State == ProgressState.Probe))
        {
            return;
        }

        switch (pr.State)
        {
            case ProgressState.Probe:
                pr.BecomeReplicate();
                break;
            case ProgressState.Snapshot when pr.Match + 1 >= Log.FirstIndex():
                // The follower has caught up to where our log can feed it again.
                Info($"recovered from needing a snapshot, resumed sending replication messages to {m.From} [{pr}]");
                pr.BecomeProbe(snapshotDelivered: true);
                pr.BecomeReplicate();
                break;
            case ProgressState.Replicate:
                pr.Inflights.FreeLE(m.Index);
                break;
        }

        if (MaybeCommit())
        {
            ReleasePendingReadIndexMessages();
            BcastAppend();
        }

        if (cfg.CoalesceAppends)
        {
            // FlushAppends sends what the follower lacks and the commit index it has not heard of.
            QueueAppend(m.From, sendIfEmpty: false);
        }
        else
        {
            while (MaybeSendAppend(m.From, sendIfEmpty: false))
            {
            }

            // The follower may act on commits up to its match; tell it if it has not heard of them yet.
            if (Math.Min(Log.Committed, pr.Match) > pr.SentCommit)
            {
                SendAppend(m.From);
            }
        }

        if (m.From == LeadTransferee && pr.Match == Log.LastIndex())
        {
            Info($"sent TimeoutNow to {m.From}: it caught up for the leader transfer");
            SendTimeoutNow(m.From);
        }
    }

    private void HandleHeartbeatResponse(Message m, Progress pr)
    {
        pr.RecentActive = true;
        pr.MsgAppFlowPaused = false;
        pr.LeaseAckTick = Math.Max(pr.LeaseAckTick, (long)m.Index);

        // A full window after a heartbeat round trip means appends were probably lost: free one slot so
        // replication resumes instead of waiting forever.
        if (pr.State == ProgressState.Replicate && pr.Inflights.Full)
        {
            pr.Inflights.FreeFirstOne();
        }

        if (pr.Match < Log.LastIndex() && pr.State != ProgressState.Snapshot)
        {
            SendAppend(m.From);
        }

        if (m.Context is { Length: > 0 } context)
        {
            var acks = readOnly.RecvAck(m.From, context);
            if (acks is not null && Tracker.CountAcks(acks) == VoteResult.Won)
            {
                foreach (var read in readOnly.Advance(context))
                {
                    RespondToReadIndex(read.Request, read.Index);
                }
            }
        }
    }

    private void StartLeaderTransfer(ulong transferee)
    {
        var pr = Tracker.Get(transferee);
        if (pr is null || pr.IsLearner || transferee == Id)
        {
            Info($"ignored leader transfer to {transferee}: not a voter other than the leader");
            return;
        }

        if (LeadTransferee != None)
        {
            if (LeadTransferee == transferee)
            {
                return;
            }

            AbortLeaderTransfer();
        }

        // The transfer must finish within an election timeout or it is abandoned (see TickHeartbeat).
        electionElapsed = 0;
        LeadTransferee = transferee;
        Info($"starts to transfer leadership to {transferee}");
        if (pr.Match == Log.LastIndex())
        {
            SendTimeoutNow(transferee);
        }
        else
        {
            SendAppend(transferee);
        }
    }

    private void SendTimeoutNow(ulong to) => Send(new Message { Type = MessageType.TimeoutNow, To = to });
}
