using LsmRaft.Raft;
using LsmRaft.Actors.Replica;

namespace LsmRaft.Simulation;

/// <summary>The shell around each RaftNode: the Ready pipeline (persist, fsync, send, apply, advance), crashes and compaction.</summary>
internal sealed partial class Simulator
{
    /// <summary>After any input to <paramref name="node"/>: observe leadership, then drive its Ready pipeline.</summary>
    private void After(SimNode node)
    {
        if (!node.Up)
        {
            return;
        }

        if (node.Raft.Role == RaftRole.Leader && node.Raft.Term > node.LeaderTermSeen)
        {
            node.LeaderTermSeen = node.Raft.Term;
            trace.Record(now, 10, node.Id, node.Raft.Term);
            trace.Line(now, $"n{node.Id} is leader of term {node.Raft.Term}");
            safety.OnLeader(node.Id, node.Raft.Term, node.Raft.Core.Log);
            if (rng.NextDouble() < leaderDisruptRate)
            {
                // Leaders that fall right after winning leave partly replicated logs of several terms behind:
                // the histories where the commit rule (§5.4.2) and the election restriction matter.
                Schedule(500 + rng.Next(8000), new SimEvent(EventKind.DisruptLeader, node, node.Incarnation, term: node.Raft.Term));
            }
        }

        Pump(node);
    }

    /// <summary>Handle Readies until one must wait for its fsync or none is left. One Ready is outstanding at a time.</summary>
    private void Pump(SimNode node)
    {
        while (node.Up && node.Outstanding is null && node.InFlight.Count < MaxPipelinedReadies && safety.Violations.Count == 0 && node.Raft.HasReady())
        {
            var rd = node.Raft.GetReady();
            if (rd.HardState is { } issued)
            {
                node.IssuedHard = issued;
            }

            if (node.Raft.Role == RaftRole.Leader && rd.HardState is { } leaderState)
            {
                RecordCommit(node, leaderState);
                if (rng.NextDouble() < leaderDisruptRate * 0.5)
                {
                    // A leader that falls right after advancing its commit index, before followers hear of it.
                    Schedule(rng.Next(3000), new SimEvent(EventKind.DisruptLeader, node, node.Incarnation, term: node.Raft.Term));
                }
            }

            // Persist: written at once (the OS has it), durable only after the fsync.
            if (rd.Snapshot is { } snapshot)
            {
                node.Storage.ApplySnapshot(snapshot);
            }

            node.Storage.Append(rd.Entries);
            if (rd.HardState is { } hard)
            {
                node.Storage.SetHardState(hard);
            }

            node.Disk.Write(rd.Snapshot, rd.Entries, rd.HardState);
            trace.Record(now, 2, node.Id, (ulong)rd.Entries.Count, rd.HardState?.Commit ?? 0, rd.MustSync ? 1UL : 0);
            bool earlySend = options.Bug == SimBug.SkipPersistBeforeSend || LeaderMaySendEarly(node, rd);
            if (earlySend)
            {
                // Bug mode: DELIBERATE FAULT (self-test), messages leave before the state they vouch for is durable.
                // Async leader persist: a leader's messages leave while its own entries are being fsynced.
                SendAll(node, rd.Messages);
            }

            if (pipelined)
            {
                IssuePipelined(node, rd, earlySend);
                continue;
            }

            node.OutstandingSent = earlySend;
            if (rd.MustSync)
            {
                node.Outstanding = rd;
                var delay = rng.NextDouble() < 0.1 ? 5000 + rng.Next(25000) : 100 + rng.Next(1900);
                Schedule(delay, new SimEvent(EventKind.FsyncDone, node, node.Incarnation));
                return;
            }

            node.Outstanding = rd;
            FinishReady(node, rd, earlySend);
        }
    }

    /// <summary>AsyncLeaderPersist: a leader may send before its fsync unless the Ready changes term or vote, or installs a snapshot.</summary>
    private bool LeaderMaySendEarly(SimNode node, Ready rd)
    {
        if (!options.AsyncLeaderPersist || node.Raft.Role != RaftRole.Leader || rd.Snapshot is not null)
            return false;
        var durable = node.Disk.Durable.HardState;
        if (pipelined)
        {
            // Earlier Readies still in flight may carry the term or vote these messages depend on.
            return node.IssuedHard.Term == durable.Term && node.IssuedHard.Vote == durable.Vote;
        }

        return rd.HardState is not { } hs || (hs.Term == durable.Term && hs.Vote == durable.Vote);
    }

    /// <summary>Most pipelined Readies in flight per node: the replica actor's default (ReplicaOptions.MaxReadiesInFlight).</summary>
    private const int MaxPipelinedReadies = 8;

    /// <summary>
    /// Pipelined Readies: the writes are made; committed entries (durable locally by the core's rule) are applied
    /// at once; the rest waits until this Ready's fsync, which completes after every earlier one.
    /// </summary>
    private void IssuePipelined(SimNode node, Ready rd, bool sent)
    {
        foreach (var e in rd.CommittedEntries)
        {
            if (e.Index > node.Raft.Core.Log.Unstable.Offset - 1)
            {
                safety.Violations.Add(new Violation("pipeline", $"n{node.Id} was handed committed entry {e.Index} before it was durable locally"));
                return;
            }

            ApplyEntry(node, e);
            if (!node.Up)
            {
                return;
            }
        }

        var item = new SimInFlightReady(rd, sent);
        node.InFlight.Enqueue(item);
        if (rd.MustSync)
        {
            var delay = rng.NextDouble() < 0.1 ? 5000 + rng.Next(25000) : 100 + rng.Next(1900);
            node.LastFsyncDoneAt = Math.Max(now + delay, node.LastFsyncDoneAt);
            Schedule(node.LastFsyncDoneAt - now, new SimEvent(EventKind.FsyncDone, node, node.Incarnation));
        }
        else
        {
            item.Durable = true;
        }

        CompletePipelined(node);
    }

    /// <summary>The oldest pipelined fsync completed: everything written so far is durable.</summary>
    private void OnPipelinedFsyncDone(SimNode node)
    {
        foreach (var item in node.InFlight)
        {
            if (item.Ready.MustSync && !item.Durable)
            {
                item.Durable = true;
                break;
            }
        }

        node.Disk.Sync(entries => safety.OnDurable(node.Id, entries));
        CompletePipelined(node);
    }

    /// <summary>Completes durable pipelined Readies oldest first: send what waited, install a snapshot, serve reads, advance.</summary>
    private void CompletePipelined(SimNode node)
    {
        while (node.Up && node.InFlight.TryPeek(out var item) && item.Durable)
        {
            node.InFlight.Dequeue();
            var rd = item.Ready;
            if (!item.Sent)
            {
                SendAll(node, rd.Messages);
            }

            if (rd.Snapshot is { } snapshot)
            {
                InstallSnapshot(node, snapshot);
            }

            foreach (var rs in rd.ReadStates)
            {
                OnReadState(node, rs);
            }

            ServeWaitingReads(node);
            node.Raft.Advance(rd);
        }
    }

    /// <summary>The Ready's writes are durable (if it needed that): send, apply, serve reads, advance.</summary>
    private void FinishReady(SimNode node, Ready rd, bool sent)
    {
        if (rd.MustSync)
        {
            node.Disk.Sync(entries => safety.OnDurable(node.Id, entries));
        }

        if (!sent)
        {
            SendAll(node, rd.Messages);
        }

        if (rd.Snapshot is { } snapshot)
        {
            InstallSnapshot(node, snapshot);
        }

        foreach (var e in rd.CommittedEntries)
        {
            ApplyEntry(node, e);
            if (!node.Up)
            {
                // The node applied its own removal and shut down.
                return;
            }
        }

        foreach (var rs in rd.ReadStates)
        {
            OnReadState(node, rs);
        }

        ServeWaitingReads(node);
        node.Raft.Advance(rd);
        node.Outstanding = null;
    }

    private void RecordCommit(SimNode node, HardState hard)
    {
        var log = node.Raft.Core.Log;
        var from = Math.Max(node.RecordedCommit + 1, log.FirstIndex());
        if (hard.Commit >= from && log.TermOrZero(hard.Commit) < hard.Term && !safety.IsCommitted(hard.Commit))
        {
            stats.OldTermCommits++;
            trace.Line(now, $"n{node.Id} commits old-term entry {hard.Commit} (term {log.TermOrZero(hard.Commit)}) in term {hard.Term}");
        }

        if (hard.Commit >= from)
        {
            safety.OnCommit(node.Id, hard.Term, log.Slice(from, hard.Commit + 1, ulong.MaxValue));
        }

        node.RecordedCommit = Math.Max(node.RecordedCommit, hard.Commit);
    }

    private void ApplyEntry(SimNode node, Entry e)
    {
        safety.OnApply(node.Id, e);
        trace.Record(now, 4, node.Id, e.Index, e.Term);
        var result = node.Sm.Apply(e);
        if (e.Type == EntryType.ConfChange)
        {
            node.Sm.Conf = node.Raft.ApplyConfChange(e);
            OnConfChangeApplied(node, e);
        }

        if (node.PendingWrites.Remove(e.Index, out var call))
        {
            CompleteWrite(call, e, result);
        }
    }

    private void InstallSnapshot(SimNode node, RaftSnapshot snapshot)
    {
        trace.Line(now, $"n{node.Id} installs snapshot at {snapshot.Index} (term {snapshot.Term})");
        trace.Record(now, 5, node.Id, snapshot.Index);
        stats.SnapshotsInstalled++;
        node.Sm = SimStateMachine.Decode(snapshot.Data, snapshot.Index, snapshot.Metadata.ConfState);

        // Writes proposed here at covered indexes: their fate is inside the snapshot, unknown to this node.
        List<ulong>? covered = null;
        foreach (var (index, call) in node.PendingWrites)
        {
            if (index <= snapshot.Index)
            {
                (covered ??= []).Add(index);
                TimeOut(call);
            }
        }

        if (covered is not null)
        {
            foreach (var index in covered)
            {
                node.PendingWrites.Remove(index);
            }
        }
    }

    private void SendAll(SimNode from, IReadOnlyList<Message> messages)
    {
        foreach (var m in messages)
        {
            Send(from, m);
        }
    }

    private void Send(SimNode from, Message m)
    {
        trace.Record(now, 6, (ulong)m.Type, m.From, m.To, m.Term);
        var to = m.To <= MaxNodeId ? byId[m.To] : null;
        if (to is null || to.Removed)
        {
            return;
        }

        if (blocked[m.From, m.To] > 0 || !to.Up)
        {
            // The transport knows the peer is unreachable: tell the core so it stops pipelining.
            from.Raft.ReportUnreachable(m.To);
            if (m.Type == MessageType.Snap)
            {
                from.Raft.ReportSnapshot(m.To, succeeded: false);
            }

            return;
        }

        if (rng.NextDouble() < lossRate)
        {
            if (m.Type == MessageType.Snap)
            {
                from.Raft.ReportSnapshot(m.To, succeeded: false);
            }

            return;
        }

        Schedule(NetworkDelay(m), new SimEvent(EventKind.Deliver, from, from.Incarnation, m, stints: (from.Stint, to.Stint)));
        if (rng.NextDouble() < duplicateRate)
        {
            Schedule(NetworkDelay(m), new SimEvent(EventKind.Deliver, from, from.Incarnation, m, stints: (from.Stint, to.Stint)));
        }
    }

    /// <summary>Random per message (so messages reorder), scaled by the link's slowness; now and then a long stall.</summary>
    private long NetworkDelay(Message m) =>
        (rng.NextDouble() < 0.05 ? 3000 + rng.Next(27000) : 200 + rng.Next(2800)) * slowness[m.From, m.To];

    private void Deliver(Message m, int senderIncarnation)
    {
        var to = byId[m.To]!;
        var delivered = to.Up && blocked[m.From, m.To] == 0;
        if (delivered)
        {
            trace.Record(now, 7, (ulong)m.Type, m.From, m.To, m.Index);
            if (trace.Verbose)
            {
                trace.Line(now, $"deliver {m.Type} {m.From}->{m.To} term={m.Term} logterm={m.LogTerm} index={m.Index} commit={m.Commit} entries={m.Entries.Count}{(m.Reject ? " reject" : string.Empty)}");
            }

            to.Raft.Step(m);
            After(to);
        }

        if (m.Type == MessageType.Snap && byId[m.From] is { Up: true } sender && sender.Incarnation == senderIncarnation)
        {
            sender.Raft.ReportSnapshot(m.To, delivered);
            After(sender);
        }
    }

    private void Crash(SimNode node, long downtime)
    {
        stats.Crashes++;
        trace.Record(now, 8, node.Id);
        trace.Line(now, $"CRASH n{node.Id}");
        node.Up = false;
        node.Incarnation++;
        node.Disk.Crash(rng, entries => safety.OnDurable(node.Id, entries));
        node.Outstanding = null;
        node.InFlight.Clear();
        FailCallsAt(node);
        Schedule(downtime, new SimEvent(EventKind.Restart, node, node.Incarnation));
    }

    private void Restart(SimNode node)
    {
        trace.Record(now, 9, node.Id);
        StartNode(node);
        After(node);
    }

    /// <summary>Every request waiting at a node that went down ends with an unknown outcome.</summary>
    private void FailCallsAt(SimNode node)
    {
        foreach (var call in node.PendingWrites.Values)
        {
            TimeOut(call);
        }

        foreach (var call in node.PendingReads.Values)
        {
            TimeOut(call);
        }

        foreach (var (_, call) in node.ReadsWaitingApply)
        {
            TimeOut(call);
        }

        node.PendingWrites.Clear();
        node.PendingReads.Clear();
        node.ReadsWaitingApply.Clear();
    }

    /// <summary>Flush the state machine: an fsync of the disk first, so the durable commit index covers what was applied.</summary>
    private void Flush(SimNode node)
    {
        node.Disk.Sync(entries => safety.OnDurable(node.Id, entries));
        node.FlushedSm = node.Sm.Encode();
        node.FlushedApplied = node.Sm.Applied;
        node.FlushedConf = node.Sm.Conf;
    }

    /// <summary>Snapshot the state machine at its applied index and drop the log entries it covers.</summary>
    private void Compact(SimNode node)
    {
        var index = node.Sm.Applied;
        if (node.Outstanding is not null || node.InFlight.Count > 0 || index < node.Storage.Snapshot().Index + 8)
        {
            return;
        }

        Flush(node);
        node.Storage.CreateSnapshot(index, node.Sm.Conf, node.FlushedSm);
        node.Storage.Compact(index);
        node.Disk.Compact(index, node.Sm.Conf, node.FlushedSm);
        trace.Record(now, 11, node.Id, index);
        trace.Line(now, $"n{node.Id} compacts its log up to {index}");
    }

    private void OnConfChangeApplied(SimNode node, Entry e)
    {
        var change = ConfChange.Decode(e.Data);
        if (node.Sm.Applied > appliedConfChanges)
        {
            appliedConfChanges = node.Sm.Applied;
            stats.ConfChangesApplied++;
            trace.Line(now, $"conf change {change} at {e.Index} applied: {node.Sm.Conf}");
        }

        if (change.Type == ConfChangeType.RemoveNode && byId[change.NodeId] is { Removed: false } removed && e.Index > removed.RejoinIndex)
        {
            // The removal is committed: the operator shuts the removed server down (docs/raft.md, "Removed servers").
            trace.Line(now, $"n{removed.Id} removed from the group and shut down");
            removed.Removed = true;
            if (removed.Up)
            {
                removed.Up = false;
                removed.Incarnation++;
                FailCallsAt(removed);
            }
        }
    }
}
