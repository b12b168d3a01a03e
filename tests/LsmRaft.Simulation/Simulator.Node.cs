using LsmRaft.Protocol.Cluster;
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

    /// <summary>Drive the node's Ready pipeline through the product's shell (<see cref="ReplicaShell"/>): the rules are not copied here.</summary>
    private void Pump(SimNode node)
    {
        if (node.Up && safety.Violations.Count == 0)
        {
            node.Shell.Drain();
        }
    }

    /// <summary>Most pipelined Readies in flight per node: the replica actor's default.</summary>
    private const int MaxPipelinedReadies = ReplicaOptions.DefaultMaxReadiesInFlight;

    /// <summary>The oldest fsync completed: everything written so far is durable, and the oldest waiting write is done.</summary>
    private void OnFsyncDone(SimNode node)
    {
        if (!node.AwaitingFsync.TryDequeue(out var write))
        {
            return;
        }

        trace.Record(now, 3, node.Id);
        node.Disk.Sync(entries => safety.OnDurable(node.Id, entries));
        write.MarkDone(null);
        node.Shell.CompleteDurable();
        Pump(node);
    }

    /// <summary>A Ready was taken: the leader's commit goes to the safety checker, and sometimes the leader falls right after.</summary>
    private void OnReadyTaken(SimNode node, Ready rd)
    {
        if (node.Raft.Role == RaftRole.Leader && rd.HardState is { } leaderState)
        {
            RecordCommit(node, leaderState);
            if (rng.NextDouble() < leaderDisruptRate * 0.5)
            {
                // A leader that falls right after advancing its commit index, before followers hear of it.
                Schedule(rng.Next(3000), new SimEvent(EventKind.DisruptLeader, node, node.Incarnation, term: node.Raft.Term));
            }
        }
    }

    /// <summary>
    /// Persist: the snapshot is installed (storage and state machine) and the writes made at once (the OS has them);
    /// they are durable only after the fsync, which completes after every earlier one.
    /// </summary>
    private bool BeginWrite(SimNode node, ReadyWrite write)
    {
        var rd = write.Ready;
        if (rd.Snapshot is { } snapshot)
        {
            node.Storage.ApplySnapshot(snapshot);
            InstallSnapshot(node, snapshot);
        }

        node.Storage.Append(rd.Entries);
        if (rd.HardState is { } hard)
        {
            node.Storage.SetHardState(hard);
        }

        node.Disk.Write(rd.Snapshot, rd.Entries, rd.HardState);
        trace.Record(now, 2, node.Id, (ulong)rd.Entries.Count, rd.HardState?.Commit ?? 0, rd.MustSync ? 1UL : 0);
        if (!rd.MustSync)
        {
            return true;
        }

        var delay = rng.NextDouble() < 0.1 ? 5000 + rng.Next(25000) : 100 + rng.Next(1900);
        node.LastFsyncDoneAt = Math.Max(now + delay, node.LastFsyncDoneAt);
        node.AwaitingFsync.Enqueue(write);
        Schedule(node.LastFsyncDoneAt - now, new SimEvent(EventKind.FsyncDone, node, node.Incarnation));
        return false;
    }

    /// <summary>Apply committed entries; a pipelined core must hand out only entries durable locally.</summary>
    private void ApplyCommitted(SimNode node, IReadOnlyList<Entry> entries)
    {
        foreach (var e in entries)
        {
            if (pipelined && e.Index > node.Raft.Core.Log.Unstable.Offset - 1)
            {
                safety.Violations.Add(new Violation("pipeline", $"n{node.Id} was handed committed entry {e.Index} before it was durable locally"));
                node.Shell.Stop();
                return;
            }

            ApplyEntry(node, e);
            if (!node.Up)
            {
                // The node applied its own removal and shut down.
                return;
            }
        }
    }

    /// <summary>A Ready is durable, sent and applied: serve its read states.</summary>
    private void CompleteReady(SimNode node, Ready rd)
    {
        foreach (var rs in rd.ReadStates)
        {
            OnReadState(node, rs);
        }

        ServeWaitingReads(node);
    }

    /// <summary>One node's effects for its shell: the simulated disk, network and state machine.</summary>
    private sealed class NodeEffects(Simulator sim, SimNode node) : IReadyEffects
    {
        public void Taken(Ready ready) => sim.OnReadyTaken(node, ready);

        public bool BeginWrite(ReadyWrite write) => sim.BeginWrite(node, write);

        public void Send(IReadOnlyList<Message> messages) => sim.SendAll(node, messages);

        public void Apply(IReadOnlyList<Entry> committed) => sim.ApplyCommitted(node, committed);

        public void Completed(Ready ready) => sim.CompleteReady(node, ready);
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
        // Raft ids name a node and an incarnation: the message goes to the node (the host's transports do the same).
        ulong toNode = ReplicaId.NodeOf(m.To);
        var to = toNode <= MaxNodeId ? byId[toNode] : null;
        if (to is null || to.Removed)
        {
            return;
        }

        if (blocked[from.Id, toNode] > 0 || !to.Up)
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
        var to = byId[ReplicaId.NodeOf(m.To)]!;
        var delivered = to.Up && blocked[ReplicaId.NodeOf(m.From), to.Id] == 0;
        if (delivered)
        {
            trace.Record(now, 7, (ulong)m.Type, m.From, m.To, m.Index);
            if (trace.Verbose)
            {
                trace.Line(now, $"deliver {m.Type} {m.From}->{m.To} term={m.Term} logterm={m.LogTerm} index={m.Index} commit={m.Commit} entries={m.Entries.Count}{(m.Reject ? " reject" : string.Empty)}");
            }

            // The host's delivery rule: a message for another Raft id than the replica's (an earlier incarnation) is dropped.
            if (to.Shell.Deliver(m))
            {
                After(to);
            }
            else
            {
                delivered = false;
                trace.Line(now, $"drop {m.Type} {ReplicaId.Describe(m.From)}->{ReplicaId.Describe(m.To)}: n{to.Id} now runs replica {ReplicaId.Describe(to.RaftId)}");
            }
        }

        if (m.Type == MessageType.Snap && byId[ReplicaId.NodeOf(m.From)] is { Up: true } sender && sender.RaftId == m.From && sender.Incarnation == senderIncarnation)
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
        node.Shell.Stop();
        node.AwaitingFsync.Clear();
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
        if (node.Shell.InFlight > 0 || index < node.Storage.Snapshot().Index + 8)
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

        if (change.Type == ConfChangeType.RemoveNode && byId[ReplicaId.NodeOf(change.NodeId)] is { Removed: false } removed && removed.RaftId == change.NodeId && e.Index > removed.RejoinIndex)
        {
            // The removal is committed: the operator shuts the removed server down (docs/raft.md, "Removed servers").
            trace.Line(now, $"n{removed.Id} removed from the group and shut down");
            removed.Removed = true;
            if (removed.Up)
            {
                removed.Up = false;
                removed.Shell.Stop();
                removed.Incarnation++;
                FailCallsAt(removed);
            }
        }
    }
}
