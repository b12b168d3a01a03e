using System.Text;
using LsmRaft.Raft;

namespace LsmRaft.Raft.Tests;

/// <summary>
/// A single-threaded harness of many <see cref="RaftNode"/>s with in-memory storage, a trivial state machine
/// (the list of applied command strings) and a network of per-node inboxes, driven by text commands.
/// The shell contract is followed exactly: persist, then send, then apply, then advance.
/// </summary>
internal sealed class InteractionEnv
{
    private readonly SortedDictionary<ulong, TestNode> nodes = [];
    private readonly SortedDictionary<ulong, List<Message>> inbox = [];
    private readonly HashSet<ulong> isolated = [];
    private readonly StringBuilder output = new();
    private bool logInfo;

    public IReadOnlyDictionary<ulong, TestNode> Nodes => nodes;

    /// <summary>What the nodes' liveness oracle (<see cref="RaftConfig.IsNodeLive"/>) reports as not live.</summary>
    public HashSet<ulong> DeadNodes { get; } = [];

    /// <summary>Messages put into inboxes so far (sent and not dropped by isolation).</summary>
    public int MessagesSent { get; private set; }

    public string Handle(string commandLine)
    {
        output.Clear();
        var tokens = commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var positional = tokens.Skip(1).Where(t => !t.Contains('=')).ToList();
        var named = tokens.Skip(1).Where(t => t.Contains('=')).Select(t => t.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
        switch (tokens[0])
        {
            case "add-nodes":
                AddNodes(int.Parse(positional[0]), named);
                break;
            case "campaign":
                Node(positional[0]).Raft.Campaign();
                break;
            case "propose":
                Print(Node(positional[0]).Raft.Propose(Encoding.UTF8.GetBytes(positional[1])).ToString());
                break;
            case "propose-conf-change":
                Print(Node(positional[0]).Raft.ProposeConfChange(ParseConfChange(positional[1])).ToString());
                break;
            case "tick":
                Tick(Node(positional[0]), int.Parse(positional[1]));
                break;
            case "tick-election":
                Tick(Node(positional[0]), Node(positional[0]).Config.ElectionTicks);
                break;
            case "tick-heartbeat":
                Tick(Node(positional[0]), Node(positional[0]).Config.HeartbeatTicks);
                break;
            case "stabilize":
                Stabilize(Ids(positional));
                break;
            case "process-ready":
                foreach (var id in Ids(positional))
                {
                    ProcessReady(nodes[id]);
                }

                break;
            case "deliver-msgs":
                foreach (var id in Ids(positional))
                {
                    Deliver(id);
                }

                break;
            case "isolate":
                Isolate(ulong.Parse(positional[0]));
                break;
            case "recover":
                isolated.Clear();
                break;
            case "transfer-leadership":
                Print(Node(named["from"]).Raft.TransferLeader(ulong.Parse(named["to"])).ToString());
                break;
            case "read-index":
                Print(Node(positional[0]).Raft.ReadIndex(Encoding.UTF8.GetBytes(positional[1])).ToString());
                break;
            case "raft-state":
                RaftState();
                break;
            case "raft-log":
                RaftLog(Node(positional[0]));
                break;
            case "status":
                Status(Node(positional[0]));
                break;
            case "state-machine":
                var sm = Node(positional[0]);
                Print($"applied={sm.AppliedIndex} [{string.Join(" ", sm.State)}]");
                break;
            case "compact":
                Compact(Node(positional[0]));
                break;
            case "report-snapshot":
                Node(positional[0]).Raft.ReportSnapshot(ulong.Parse(positional[1]), positional[2] == "ok");
                break;
            case "report-unreachable":
                Node(positional[0]).Raft.ReportUnreachable(ulong.Parse(positional[1]));
                break;
            case "restart":
                Restart(Node(positional[0]));
                break;
            case "log-level":
                logInfo = positional[0] == "info";
                break;
            default:
                throw new FormatException($"Unknown command '{tokens[0]}'.");
        }

        var text = output.ToString().TrimEnd('\n');
        return text.Length == 0 ? "ok" : text;
    }

    public void AddNodes(int count, IReadOnlyDictionary<string, string> options)
    {
        var voters = ParseIds(options.GetValueOrDefault("voters"));
        var learners = ParseIds(options.GetValueOrDefault("learners"));
        var index = ulong.Parse(options.GetValueOrDefault("index", "0"));
        var first = nodes.Count == 0 ? 1UL : nodes.Keys.Max() + 1;
        for (var id = first; id < first + (ulong)count; id++)
        {
            var conf = new ConfState(voters, learners);
            var snapshot = index == 0
                ? RaftSnapshot.Initial(conf)
                : new RaftSnapshot(new SnapshotMetadata(index, 1, conf), []);
            var storage = new MemoryRaftStorage(snapshot);
            var config = new RaftConfig
            {
                Id = id,
                ElectionTicks = int.Parse(options.GetValueOrDefault("election", "10")),
                HeartbeatTicks = int.Parse(options.GetValueOrDefault("heartbeat", "1")),
                PreVote = options.GetValueOrDefault("prevote") == "true",
                CheckQuorum = options.GetValueOrDefault("checkquorum") == "true",
                ReadOnlyOption = options.GetValueOrDefault("read-only") == "lease" ? ReadOnlyOption.LeaseBased : ReadOnlyOption.Safe,
                MaxInflight = int.Parse(options.GetValueOrDefault("max-inflight", "256")),
                MaxSizePerMsg = ulong.Parse(options.GetValueOrDefault("max-size", "1048576")),
                QuiesceAfterTicks = int.Parse(options.GetValueOrDefault("quiesce", "0")),
                IsNodeLive = nodeId => !DeadNodes.Contains(nodeId),
                Random = new Random((int)id),
                Logger = Log,
            };
            var node = new TestNode(config, storage);
            node.Raft = new RaftNode(config, storage);
            nodes[id] = node;
            inbox[id] = [];
        }
    }

    /// <summary>Process Readies and deliver messages until nothing changes.</summary>
    public void Stabilize(IReadOnlyList<ulong> ids)
    {
        while (true)
        {
            var done = true;
            foreach (var id in ids)
            {
                if (nodes[id].Raft.HasReady())
                {
                    ProcessReady(nodes[id]);
                    done = false;
                }
            }

            foreach (var id in ids)
            {
                if (inbox[id].Count > 0)
                {
                    Deliver(id);
                    done = false;
                }
            }

            if (done)
            {
                return;
            }
        }
    }

    public void ProcessReady(TestNode node)
    {
        if (!node.Raft.HasReady())
        {
            return;
        }

        var rd = node.Raft.GetReady();
        output.Append($"> {node.Id} handling Ready\n");
        RaftFormat.Ready(output, rd);

        // 1-2: persist (snapshot, entries, hard state).
        if (rd.Snapshot is { } snapshot)
        {
            node.Storage.ApplySnapshot(snapshot);
            node.State = DecodeState(snapshot.Data);
            node.AppliedIndex = snapshot.Index;
            node.AppliedConf = snapshot.Metadata.ConfState;
        }

        node.Storage.Append(rd.Entries);
        if (rd.HardState is { } hard)
        {
            node.Storage.SetHardState(hard);
        }

        // 3: send.
        foreach (var m in rd.Messages)
        {
            if (inbox.TryGetValue(m.To, out var queue) && !isolated.Contains(m.From) && !isolated.Contains(m.To))
            {
                queue.Add(m);
                MessagesSent++;
            }
        }

        // 4: apply.
        foreach (var e in rd.CommittedEntries)
        {
            if (e.Type == EntryType.ConfChange)
            {
                node.AppliedConf = node.Raft.ApplyConfChange(e);
            }
            else if (e.Data.Length > 0)
            {
                node.State.Add(Encoding.UTF8.GetString(e.Data));
            }

            node.AppliedIndex = e.Index;
        }

        node.ReadStates.AddRange(rd.ReadStates);
        node.Raft.Advance(rd);
    }

    public void Deliver(ulong id)
    {
        var batch = inbox[id].ToArray();
        inbox[id].Clear();
        if (batch.Length == 0)
        {
            return;
        }

        output.Append($"> {id} receiving messages\n");
        foreach (var m in batch)
        {
            output.Append("  ").Append(RaftFormat.Message(m)).Append('\n');
            nodes[id].Raft.Step(m);
        }
    }

    public void Isolate(ulong id)
    {
        isolated.Add(id);
        foreach (var (to, queue) in inbox)
        {
            queue.RemoveAll(m => m.From == id || to == id);
        }
    }

    public void Tick(TestNode node, int ticks)
    {
        for (var i = 0; i < ticks; i++)
        {
            node.Raft.Tick();
        }
    }

    public IReadOnlyList<ulong> Ids(IReadOnlyList<string> positional) =>
        positional.Count == 0 ? nodes.Keys.ToList() : positional.Select(ulong.Parse).ToList();

    private void RaftState()
    {
        foreach (var (id, node) in nodes)
        {
            var status = node.Raft.Status();
            var membership = status.Config.Voters.Contains(id) ? "Voter" : status.Config.Learners.Contains(id) ? "Learner" : "NonMember";
            Print($"{id}: {RaftFormat.Role(status.SoftState.Role)} ({membership}) Term:{status.HardState.Term} Lead:{status.SoftState.Lead}");
        }
    }

    private void RaftLog(TestNode node)
    {
        var first = node.Storage.FirstIndex();
        var last = node.Storage.LastIndex();
        if (last < first)
        {
            Print($"log is empty: first index={first}, last index={last}");
            return;
        }

        foreach (var e in node.Storage.Entries(first, last + 1, ulong.MaxValue))
        {
            Print(RaftFormat.Entry(e));
        }
    }

    private void Status(TestNode node)
    {
        var status = node.Raft.Status();
        foreach (var (id, pr) in status.Progress)
        {
            var line = $"{id}: {pr.State} match={pr.Match} next={pr.Next}";
            if (pr.IsLearner)
            {
                line += " learner";
            }

            if (pr.State == ProgressState.Snapshot)
            {
                line += $" pendingSnap={pr.PendingSnapshot}";
            }
            else if (pr.Paused)
            {
                line += " paused";
            }

            if (pr.Inflight > 0)
            {
                line += $" inflight={pr.Inflight}";
            }

            Print(line);
        }
    }

    private void Compact(TestNode node)
    {
        var snapshot = node.Storage.CreateSnapshot(node.AppliedIndex, node.AppliedConf, EncodeState(node.State));
        node.Storage.Compact(snapshot.Index);
        Print($"snapshot at {snapshot.Index}, first index now {node.Storage.FirstIndex()}");
    }

    /// <summary>Crash and restart: keep only what was persisted; the state machine restarts from the snapshot.</summary>
    private void Restart(TestNode node)
    {
        inbox[node.Id].Clear();
        var snapshot = node.Storage.Snapshot();
        node.State = DecodeState(snapshot.Data);
        node.AppliedIndex = snapshot.Index;
        node.AppliedConf = snapshot.Metadata.ConfState;
        node.Raft = new RaftNode(node.Config, node.Storage);
    }

    private TestNode Node(string id) => nodes[ulong.Parse(id)];

    private void Print(string line) => output.Append(line).Append('\n');

    private void Log(string line)
    {
        if (logInfo)
        {
            output.Append("INFO ").Append(line).Append('\n');
        }
    }

    private static ConfChange ParseConfChange(string text)
    {
        var id = ulong.Parse(text[1..]);
        return text[0] switch
        {
            'v' => ConfChange.AddVoter(id),
            'l' => ConfChange.AddLearner(id),
            'r' => ConfChange.Remove(id),
            _ => throw new FormatException($"Conf change '{text}' must be v<id>, l<id> or r<id>."),
        };
    }

    private static List<ulong> ParseIds(string? list) =>
        list is null ? [] : list.Trim('(', ')').Split(',', StringSplitOptions.RemoveEmptyEntries).Select(ulong.Parse).ToList();

    public static byte[] EncodeState(IReadOnlyList<string> state) => Encoding.UTF8.GetBytes(string.Join("\n", state));

    public static List<string> DecodeState(byte[] data) =>
        data.Length == 0 ? [] : [.. Encoding.UTF8.GetString(data).Split('\n')];
}

/// <summary>One node of the harness: the Raft node, its storage, and its state machine.</summary>
internal sealed class TestNode(RaftConfig config, MemoryRaftStorage storage)
{
    public ulong Id => Config.Id;

    public RaftConfig Config { get; } = config;

    public MemoryRaftStorage Storage { get; } = storage;

    public RaftNode Raft { get; set; } = null!;

    public List<string> State { get; set; } = [];

    public ulong AppliedIndex { get; set; } = storage.Snapshot().Index;

    public ConfState AppliedConf { get; set; } = storage.Snapshot().Metadata.ConfState;

    public List<ReadState> ReadStates { get; } = [];
}
