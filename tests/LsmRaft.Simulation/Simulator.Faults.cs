using LsmRaft.Protocol.Cluster;
using LsmRaft.Raft;

namespace LsmRaft.Simulation;

/// <summary>What the scheduler injects each step: client requests, crashes, partitions, membership changes, leader transfers, compaction.</summary>
internal sealed partial class Simulator
{
    private ulong nextNodeId;

    /// <summary>A node created for an AddLearner proposal that is not yet in the leader's configuration.</summary>
    private ulong joiningNode;

    private ulong appliedConfChanges;

    private void InjectActions()
    {
        // With quiescence, clients pause every other 300 steps so the group goes idle and quiesces.
        var clientsPaused = quiesce && (step / 300) % 2 == 1;
        foreach (var client in clients)
        {
            if (!clientsPaused && client.Current is null && rng.NextDouble() < clientRate)
            {
                IssueClientOp(client);
            }
        }

        // Half the crashes and partitions hit the leader: leadership churn with partly replicated logs is where
        // commit and election rules are tested hardest.
        if (rng.NextDouble() < crashRate && (rng.Next(2) == 0 ? CurrentLeader() : RandomUpNode()) is { } victim)
        {
            Crash(victim, 20_000 + rng.Next(300_000));
        }

        if (rng.NextDouble() < partitionRate)
        {
            Partition();
        }

        if (rng.NextDouble() < 0.002)
        {
            ChangeMembership();
        }

        if (rng.NextDouble() < 0.002)
        {
            TransferLeadership();
        }

        if (rng.NextDouble() < 0.01 && RandomUpNode() is { } compacting)
        {
            Compact(compacting);
        }

        if (rng.NextDouble() < 0.01 && RandomUpNode() is { } flushing)
        {
            Flush(flushing);
        }
    }

    /// <summary>Cut links for a while: isolate a node, split the group in two, or cut one direction only.</summary>
    private void Partition()
    {
        var members = new List<ulong>();
        foreach (var n in nodes)
        {
            if (!n.Removed)
            {
                members.Add(n.Id);
            }
        }

        var links = new List<(ulong, ulong)>();
        var kind = rng.Next(4);
        if (kind <= 1)
        {
            // Symmetric: a random side (one node, or up to half the group) against the rest.
            var side = new HashSet<ulong>();
            if (kind == 0 && CurrentLeader() is { } leader)
            {
                side.Add(leader.Id);
            }

            var size = kind == 0 ? 1 : 1 + rng.Next(Math.Max(1, members.Count / 2));
            while (side.Count < size)
            {
                side.Add(members[rng.Next(members.Count)]);
            }

            foreach (var a in members)
            {
                foreach (var b in members)
                {
                    if (side.Contains(a) != side.Contains(b))
                    {
                        links.Add((a, b));
                    }
                }
            }
        }
        else if (kind == 2)
        {
            // One-way: a node can hear the others but not reach them (or the reverse).
            var x = members[rng.Next(members.Count)];
            var outgoing = rng.Next(2) == 0;
            foreach (var b in members)
            {
                if (b != x)
                {
                    links.Add(outgoing ? (x, b) : (b, x));
                }
            }
        }
        else
        {
            // A single one-way link.
            var a = members[rng.Next(members.Count)];
            var b = members[rng.Next(members.Count)];
            if (a != b)
            {
                links.Add((a, b));
            }
        }

        foreach (var (a, b) in links)
        {
            blocked[a, b]++;
        }

        stats.Partitions++;
        trace.Record(now, 30, (ulong)links.Count, (ulong)kind);
        trace.Line(now, $"PARTITION {string.Join(" ", links.Select(l => $"{l.Item1}-x>{l.Item2}"))}");
        Schedule(20_000 + rng.Next(400_000), new SimEvent(EventKind.Heal, null, 0, links: links));
    }

    /// <summary>Cut every link to and from <paramref name="node"/> for a while.</summary>
    private void Isolate(SimNode node, long duration)
    {
        var links = new List<(ulong, ulong)>();
        foreach (var n in nodes)
        {
            if (n != node && !n.Removed)
            {
                links.Add((node.Id, n.Id));
                links.Add((n.Id, node.Id));
            }
        }

        foreach (var (a, b) in links)
        {
            blocked[a, b]++;
        }

        stats.Partitions++;
        trace.Record(now, 34, node.Id);
        trace.Line(now, $"ISOLATE n{node.Id}");
        Schedule(duration, new SimEvent(EventKind.Heal, null, 0, links: links));
    }

    private void Heal(List<(ulong From, ulong To)> links)
    {
        foreach (var (a, b) in links)
        {
            blocked[a, b]--;
        }

        trace.Record(now, 31, (ulong)links.Count);
        trace.Line(now, $"HEAL {string.Join(" ", links.Select(l => $"{l.From}-x>{l.To}"))}");
    }

    private SimNode? CurrentLeader()
    {
        SimNode? leader = null;
        foreach (var n in nodes)
        {
            if (n.Up && n.Raft.Role == RaftRole.Leader && (leader is null || n.Raft.Term > leader.Raft.Term))
            {
                leader = n;
            }
        }

        return leader;
    }

    /// <summary>
    /// One move of the replace-a-voter cycle, one change at a time: add a new node as learner, promote it
    /// once it caught up, then remove another voter (never the leader), so the group keeps at least 3 voters.
    /// </summary>
    private void ChangeMembership()
    {
        if (CurrentLeader() is not { } leader)
        {
            return;
        }

        var conf = leader.Raft.Core.Config;
        ConfChange change;
        SimNode? rejoining = null;
        if (!conf.Learners.IsEmpty)
        {
            var learner = conf.Learners[0];
            var pr = leader.Raft.Core.Tracker.Get(learner);
            if (pr is null || pr.Match + 5 < leader.Raft.Core.Log.LastIndex())
            {
                return;
            }

            change = ConfChange.AddVoter(learner);
        }
        else if (conf.Voters.Count > initialVoters)
        {
            var candidates = new List<ulong>();
            foreach (var v in conf.Voters)
            {
                if (v != leader.RaftId)
                {
                    candidates.Add(v);
                }
            }

            change = ConfChange.Remove(candidates[rng.Next(candidates.Count)]);
        }
        else if (joiningNode != 0)
        {
            change = ConfChange.AddLearner(joiningNode);
        }
        else if (RemovedNode(conf) is { } back && (nextNodeId > MaxNodeId || rng.Next(2) == 0))
        {
            // A replica moved back onto a node that held it before: the node starts over from an empty log, under a new
            // Raft id (the next incarnation, as the host allocates one), or under its old id in the bug mode that
            // needs it (the core's own defence, a fresh progress for a re-added id, is what that mode breaks).
            rejoining = back;
            change = ConfChange.AddLearner(SameIdOnRejoin ? back.RaftId : new ReplicaId(back.Id, back.IdIncarnation + 1).Value);
        }
        else if (nextNodeId <= MaxNodeId)
        {
            change = ConfChange.AddLearner(nextNodeId);
        }
        else
        {
            return;
        }

        var result = leader.Raft.ProposeConfChange(change);
        if (result.IsOk && rejoining is { } again)
        {
            Rejoin(again, result.Index);
            joiningNode = again.RaftId;
        }
        trace.Record(now, 32, leader.Id, (ulong)change.Type, change.NodeId, result.IsOk ? 1UL : 0);
        trace.Line(now, $"n{leader.Id} proposes conf change {change}: {result}");
        if (result.IsOk && change.Type == ConfChangeType.AddLearner && change.NodeId == nextNodeId)
        {
            // The new server starts empty (it knows only the group's initial configuration) and catches up from the leader.
            joiningNode = nextNodeId++;
            StartNode(AddNode(joiningNode));
        }

        if (joiningNode != 0 && conf.Contains(joiningNode))
        {
            joiningNode = 0;
        }

        After(leader);
    }

    /// <summary>
    /// Whether a node added back keeps its Raft id (and messages between its stints are dropped by the simulator) rather
    /// than getting the next incarnation: only in the bug mode that needs a re-added id to show its fault.
    /// </summary>
    private bool SameIdOnRejoin => options.Bug == SimBug.KeepProgressOfReaddedMember;

    /// <summary>A node whose removal was applied and which is no member of <paramref name="conf"/>, if any (the lowest id).</summary>
    private SimNode? RemovedNode(ConfState conf)
    {
        foreach (var node in nodes)
        {
            if (node.Removed && !conf.Contains(node.RaftId))
            {
                return node;
            }
        }

        return null;
    }

    /// <summary>
    /// Starts a removed node again as the host re-creates a replica moved back onto it: its log forgotten (term and
    /// vote kept), its state machine empty, knowing no members; it catches up from the leader's snapshot.
    /// </summary>
    private void Rejoin(SimNode node, ulong addIndex)
    {
        stats.Rejoins++;
        node.Disk.Forget();
        node.FlushedSm = [];
        node.FlushedApplied = 0;
        node.FlushedConf = ConfState.Empty;
        node.Removed = false;
        node.RejoinIndex = addIndex;
        if (SameIdOnRejoin)
        {
            node.Stint++;
        }
        else
        {
            node.IdIncarnation++;
        }

        node.Incarnation++;
        trace.Line(now, $"n{node.Id} added back at {addIndex} as replica {ReplicaId.Describe(node.RaftId)}: starts over with an empty log");
        StartNode(node);
    }

    private void TransferLeadership()
    {
        if (CurrentLeader() is not { } leader)
        {
            return;
        }

        var voters = leader.Raft.Core.Config.Voters;
        var to = voters[rng.Next(voters.Count)];
        if (to == leader.RaftId)
        {
            return;
        }

        stats.Transfers++;
        var result = leader.Raft.TransferLeader(to);
        trace.Record(now, 33, leader.Id, to, result.IsOk ? 1UL : 0);
        trace.Line(now, $"n{leader.Id} transfers leadership to n{to}: {result}");
        After(leader);
    }
}
