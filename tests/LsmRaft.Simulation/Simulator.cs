using LsmRaft.Actors.Replica;
using LsmRaft.Protocol.Cluster;
using LsmRaft.Raft;

namespace LsmRaft.Simulation;

/// <summary>
/// Runs one Raft group of 3 to 5 replicas on one thread under a seeded scheduler: a discrete-event loop over
/// simulated time (no wall clock, no tasks), a network that delays, loses, duplicates, reorders and partitions
/// messages, disks whose fsync is slow and whose unsynced writes a crash loses, skewed tick clocks, clients,
/// membership changes, leader transfers and log compaction; the safety and linearizability checkers watch it.
/// The same seed and options always give the same run (see <see cref="Trace"/>).
/// </summary>
internal sealed partial class Simulator
{
    /// <summary>Simulated time units per scheduler step (1 ms).</summary>
    public const long StepLength = 1000;

    private const long BaseTickPeriod = 5000;
    private const int ElectionTicks = 10;
    private const int HeartbeatTicks = 2;
    private const int MaxNodeId = 60;
    private const double MaxClockDrift = 0.1;

    private readonly int seed;
    private readonly bool coalesceAppends;
    private readonly bool pipelined;
    private readonly bool quiesce;

    /// <summary>How the liveness oracle errs (quiescence only): 0 sees crashes only (blind to partitions), 1 also a cut link from the leader, 2 like 1 but wrong either way 5% of the time.</summary>
    private readonly int oracleMode;
    private readonly SimOptions options;
    private readonly Random rng;
    private readonly Trace trace;
    private readonly SafetyChecker safety = new();
    private readonly SimStats stats = new();
    private readonly PriorityQueue<SimEvent, (long Time, long Seq)> events = new();
    private readonly List<SimNode> nodes = [];
    private readonly SimNode?[] byId = new SimNode?[MaxNodeId + 1];
    private readonly int[,] blocked = new int[MaxNodeId + 1, MaxNodeId + 1];

    /// <summary>Per directed link: how many times slower than normal it is (1 = normal; gray failures).</summary>
    private readonly int[,] slowness = new int[MaxNodeId + 1, MaxNodeId + 1];
    private readonly ConfState initialConf;
    private readonly int initialVoters;

    // Per-seed profile: how hostile this run's world is.
    private readonly bool leaseReads;
    private readonly ulong maxSizePerMsg;
    private readonly int maxInflight;
    private readonly double lossRate;
    private readonly double duplicateRate;
    private readonly double crashRate;
    private readonly double partitionRate;
    private readonly double clientRate;
    private readonly double leaderDisruptRate;

    private long now;
    private long seq;
    private int step;

    public Simulator(int seed, SimOptions options, TextWriter? verboseOut = null)
    {
        this.seed = seed;
        this.options = options;
        // Decided from the seed, not drawn from rng, so the rest of a seed's world is the same either way.
        coalesceAppends = options.CoalesceAppends ?? (seed & 1) == 1;
        pipelined = options.PipelinedReadies ?? (seed & 2) == 2;
        quiesce = options.Quiesce ?? (seed & 4) == 4;
        oracleMode = (seed >> 3) % 3;
        rng = new Random(seed);
        trace = new Trace(options.Verbose, verboseOut);
        initialVoters = options.Nodes > 0 ? options.Nodes : 3 + rng.Next(3);
        leaseReads = rng.NextDouble() < 0.35;
        maxSizePerMsg = rng.Next(4) switch { 0 or 1 => 1UL, 2 => 64UL, _ => 1UL << 20 };
        maxInflight = rng.Next(3) switch { 0 => 2, 1 => 16, _ => 256 };
        lossRate = rng.NextDouble() * 0.05;
        duplicateRate = rng.NextDouble() * 0.03;
        crashRate = 0.001 + (rng.NextDouble() * 0.004);
        partitionRate = 0.001 + (rng.NextDouble() * 0.004);
        clientRate = 0.05 + (rng.NextDouble() * 0.2);
        leaderDisruptRate = rng.Next(3) == 0 ? 0 : rng.NextDouble();
        var voters = new ulong[initialVoters];
        for (var i = 0; i < initialVoters; i++)
        {
            voters[i] = (ulong)i + 1;
        }

        initialConf = new ConfState(voters, []);
        clients = new SimClient[3 + rng.Next(3)];
        for (var i = 0; i < clients.Length; i++)
        {
            clients[i] = new SimClient(i);
        }

        nextNodeId = (ulong)initialVoters + 1;
        var slowLinks = rng.Next(3) == 0;
        for (var a = 0; a <= MaxNodeId; a++)
        {
            for (var b = 0; b <= MaxNodeId; b++)
            {
                slowness[a, b] = slowLinks && rng.Next(4) == 0 ? 3 + rng.Next(8) : 1;
            }
        }
    }

    public SimStats Stats => stats;

    public ulong TraceHash => trace.Hash;

    public IReadOnlyList<KvOp> History => history;

    /// <summary>Run the configured number of steps, then the final checks. Returns the violations found (the run stops at the first).</summary>
    public IReadOnlyList<Violation> Run()
    {
        trace.Line(0, $"seed {seed}: {initialVoters} voters, lease={leaseReads}, max-size-per-msg={maxSizePerMsg}, max-inflight={maxInflight}, coalesce={coalesceAppends}, pipelined={pipelined}, quiesce={quiesce}/{oracleMode}, " +
            $"loss={lossRate:F3}, dup={duplicateRate:F3}, crash={crashRate:F4}, partition={partitionRate:F4}, leader-disrupt={leaderDisruptRate:F2}, clients={clients.Length}, bug={options.Bug}");
        foreach (var voter in initialConf.Voters)
        {
            StartNode(AddNode(voter));
        }

        try
        {
            for (step = 0; step < options.Steps && safety.Violations.Count == 0; step++)
            {
                InjectActions();
                var end = now + StepLength;
                while (safety.Violations.Count == 0 && events.TryPeek(out var ev, out var at) && at.Time < end)
                {
                    events.Dequeue();
                    now = at.Time;
                    Handle(ev);
                }

                now = end;
                ExpireClientCalls();
                CheckLeaderProgress();
                if (step % 250 == 249)
                {
                    CheckLogMatching();
                }
            }

            if (safety.Violations.Count == 0)
            {
                CheckLogMatching();
            }
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or RaftLogCompactedException or RaftLogUnavailableException or SnapshotOutOfDateException)
        {
            // The core refused to go on because one of its own invariants broke (for example a commit index past
            // the end of a follower's log: acknowledged entries were lost). A finding, not a simulator crash.
            safety.Violations.Add(new Violation("core-invariant", $"step {step}: {e.GetType().Name}: {e.Message} {FirstFrame(e)}"));
        }

        if (safety.Violations.Count == 0)
        {
            // Requests still in flight when the run stops may or may not take effect.
            foreach (var client in clients)
            {
                if (client.Current is { } call)
                {
                    TimeOut(call);
                }
            }

            CheckLinearizability();
        }

        stats.Leaders = safety.LeaderCount;
        foreach (var v in safety.Violations)
        {
            trace.Line(now, $"VIOLATION {v.Checker}: {v.Details}");
        }

        return safety.Violations;
    }

    private void Handle(SimEvent ev)
    {
        var node = ev.Node;
        switch (ev.Kind)
        {
            case EventKind.Tick:
                if (node!.Up && node.Incarnation == ev.Incarnation)
                {
                    trace.Record(now, 1, node.Id);
                    node.Raft.Tick();
                    CountQuiesced(node);
                    After(node);
                    Schedule(node.TickPeriod, new SimEvent(EventKind.Tick, node, node.Incarnation));
                }

                break;
            case EventKind.Deliver:
                if (byId[ReplicaId.NodeOf(ev.Message!.From)]!.Stint != ev.Stints.From || byId[ReplicaId.NodeOf(ev.Message.To)]!.Stint != ev.Stints.To)
                {
                    // Between replicas of different stints (one was retired and created again meanwhile): the
                    // replica identity the message names no longer exists, as with CockroachDB's replica IDs.
                    trace.Line(now, $"drop {ev.Message.Type} {ev.Message.From}->{ev.Message.To}: sent to or from an earlier replica of a node added back");
                    break;
                }

                Deliver(ev.Message, ev.Incarnation);
                break;
            case EventKind.FsyncDone:
                if (node!.Up && node.Incarnation == ev.Incarnation)
                {
                    OnFsyncDone(node);
                }

                break;
            case EventKind.Restart:
                if (!node!.Removed && !node.Up && node.Incarnation == ev.Incarnation)
                {
                    Restart(node);
                }

                break;
            case EventKind.Heal:
                Heal(ev.Links!);
                break;
            case EventKind.DisruptLeader:
                if (node!.Up && node.Incarnation == ev.Incarnation && node.Raft.Role == RaftRole.Leader && node.Raft.Term == ev.Term)
                {
                    // Short and long outages: the fallen leader returns before or after the next election, while
                    // the others still hold the logs it left behind.
                    var outage = rng.Next(2) == 0 ? 5000 + rng.Next(40_000) : 50_000 + rng.Next(200_000);
                    if (rng.Next(2) == 0)
                    {
                        Crash(node, outage);
                    }
                    else
                    {
                        Isolate(node, outage);
                    }
                }

                break;
        }
    }

    private void Schedule(long delay, SimEvent ev) => events.Enqueue(ev, (now + delay, ++seq));

    private SimNode AddNode(ulong id)
    {
        var node = new SimNode(id, initialConf);
        nodes.Add(node);
        byId[id] = node;
        return node;
    }

    private RaftConfig NodeConfig(ulong id, ulong applied) => new()
    {
        Id = id,
        ElectionTicks = ElectionTicks,
        HeartbeatTicks = HeartbeatTicks,
        PreVote = true,
        CheckQuorum = true,
        AsyncLeaderPersist = options.AsyncLeaderPersist,
        CoalesceAppends = coalesceAppends,
        PipelinedReadies = pipelined,
        QuiesceAfterTicks = quiesce ? 3 : 0,
        IsNodeLive = quiesce ? peer => IsLive(ReplicaId.NodeOf(id), ReplicaId.NodeOf(peer)) : null, // asked about Raft ids: liveness is per node
        ReadOnlyOption = leaseReads ? ReadOnlyOption.LeaseBased : ReadOnlyOption.Safe,
        MaxClockDrift = MaxClockDrift,
        MaxSizePerMsg = maxSizePerMsg,
        MaxInflight = maxInflight,
        Applied = applied,
        Random = new Random(rng.Next()),
        Faults = options.Bug switch
        {
            SimBug.CommitOldTermByCounting => RaftFaultInjection.CommitOldTermByCounting,
            SimBug.GrantTwoVotesPerTerm => RaftFaultInjection.GrantTwoVotesPerTerm,
            SimBug.KeepProgressOfReaddedMember => RaftFaultInjection.KeepProgressOfReaddedMember,
            _ => RaftFaultInjection.None,
        },
        Logger = trace.Verbose ? line => trace.Line(now, "    " + line) : null,
    };

    /// <summary>Start (or restart) a node from its durable state: Raft from the disk, the state machine from its flushed copy or the newer snapshot.</summary>
    private void StartNode(SimNode node)
    {
        node.Storage = node.Disk.Load();
        var snapshot = node.Storage.Snapshot();
        node.Sm = snapshot.Index > node.FlushedApplied
            ? SimStateMachine.Decode(snapshot.Data, snapshot.Index, snapshot.Metadata.ConfState)
            : SimStateMachine.Decode(node.FlushedSm, node.FlushedApplied, node.FlushedConf);
        node.Shell = new ReplicaShell($"n{node.Id}", NodeConfig(node.RaftId, node.Sm.Applied), node.Storage, new NodeEffects(this, node), MaxPipelinedReadies)
        {
            // Bug mode: DELIBERATE FAULT (self-test), messages leave before the state they vouch for is durable.
            UnsafeSendBeforeDurable = options.Bug == SimBug.SkipPersistBeforeSend,
        };
        node.Up = true;
        node.AwaitingFsync.Clear();
        node.RecordedCommit = 0;
        node.LeaderTermSeen = 0;

        // Clock skew: every node's tick period lies within [base, base * (1 + drift)), inside the lease's bound.
        node.TickPeriod = BaseTickPeriod + rng.Next((int)(BaseTickPeriod * MaxClockDrift * 0.9));
        Schedule(1 + rng.Next((int)node.TickPeriod), new SimEvent(EventKind.Tick, node, node.Incarnation));
        trace.Line(now, $"n{node.Id} started (incarnation {node.Incarnation}, applied {node.Sm.Applied}, tick period {node.TickPeriod})");
    }

    /// <summary>
    /// The liveness oracle as node <paramref name="observer"/> sees it. It may be wrong both ways (blind to partitions,
    /// or noisy); quiescence must stay safe regardless, and only liveness may suffer.
    /// </summary>
    private bool IsLive(ulong observer, ulong peer)
    {
        var live = byId[peer] is { Up: true, Removed: false } && (oracleMode == 0 || blocked[peer, observer] == 0);
        if (oracleMode == 2 && rng.NextDouble() < 0.05)
        {
            live = !live;
        }

        return live;
    }

    private void CountQuiesced(SimNode node)
    {
        if (!node.Raft.Quiesced)
        {
            return;
        }

        if (node.Raft.Role == RaftRole.Leader)
        {
            stats.QuiescedLeaderTicks++;
        }
        else if (node.Raft.Lead != 0 && byId[ReplicaId.NodeOf(node.Raft.Lead)] is not { Up: true })
        {
            stats.QuiescedOrphanTicks++;
        }
    }

    /// <summary>
    /// A leader never believes a member of its term holds more of the log than the member's disk does: the match it
    /// counts toward commit comes from acknowledgements of durable writes, and within the leader's term a member's
    /// durable log only shrinks when its node forgets it (a removed replica added back). A stale match would count a
    /// node that lacks entries toward the commit quorum.
    /// </summary>
    private void CheckLeaderProgress()
    {
        foreach (var leader in nodes)
        {
            if (!leader.Up || leader.Raft.Role != RaftRole.Leader)
            {
                continue;
            }

            var tracker = leader.Raft.Core.Tracker;
            foreach (var (id, pr) in tracker.Progress)
            {
                if (id == leader.RaftId || !tracker.Config.Contains(id) || byId[ReplicaId.NodeOf(id)] is not { } peer || peer.RaftId != id
                    || peer.Disk.Durable.HardState.Term != leader.Raft.Term)
                {
                    continue;
                }

                var last = peer.Disk.Durable.LastIndex();
                if (pr.Match > last)
                {
                    safety.Violations.Add(new Violation("leader-progress", $"leader n{leader.Id} of term {leader.Raft.Term} counts match {pr.Match} for n{id}, whose log ends at {last}"));
                    return;
                }
            }
        }
    }

    private void CheckLogMatching()
    {
        var logs = new List<(ulong, MemoryRaftStorage)>(nodes.Count);
        foreach (var n in nodes)
        {
            logs.Add((n.Id, n.Disk.Durable));
        }

        safety.CheckLogMatching(logs);
    }

    private void CheckLinearizability()
    {
        if (LinearizabilityChecker.FindViolation(history) is { } bad)
        {
            var ops = string.Join("; ", bad.Ops.Take(40));
            safety.Violations.Add(new Violation("linearizability", $"key k{bad.Key} ({bad.Ops.Count} ops) has no linearization: {ops}"));
        }
    }

    /// <summary>The innermost frames of the stack, enough to locate the broken rule.</summary>
    private static string FirstFrame(Exception e)
    {
        var frames = (e.StackTrace ?? string.Empty).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return frames.Length == 0 ? "?" : string.Join(" < ", frames.Take(6)).Replace("at LsmRaft.", string.Empty);
    }

    private enum EventKind : byte
    {
        Tick,
        Deliver,
        FsyncDone,
        Restart,
        Heal,
        DisruptLeader,
    }

    private sealed class SimEvent(EventKind kind, SimNode? node, int incarnation, Message? message = null, List<(ulong, ulong)>? links = null, ulong term = 0, (int From, int To) stints = default)
    {
        /// <summary>For deliveries: the sender's and the receiver's <see cref="SimNode.Stint"/> when it was sent.</summary>
        public (int From, int To) Stints { get; } = stints;

        public EventKind Kind { get; } = kind;

        public SimNode? Node { get; } = node;

        /// <summary>For node events: the life they belong to. For deliveries: the sender's life when it sent.</summary>
        public int Incarnation { get; } = incarnation;

        public Message? Message { get; } = message;

        public List<(ulong From, ulong To)>? Links { get; } = links;

        /// <summary>For <see cref="EventKind.DisruptLeader"/>: the term whose leader is to be cut off.</summary>
        public ulong Term { get; } = term;
    }
}
