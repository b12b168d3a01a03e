using System.Text.Json;
using LsmRaft.Client;
using LsmRaft.Host.Cli;
using LsmRaft.Host.Tests.Cluster;
using LsmRaft.Host.Tests.Support;
using LsmRaft.Protocol.Monitoring;

namespace LsmRaft.Host.Tests.Monitoring;

/// <summary>The monitoring API and <c>lsmraft cluster tail</c> against three real nodes on loopback.</summary>
public sealed class MonitoringClusterTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Every_node_reports_its_replicas_storage_and_traffic_and_any_node_gathers_them_all()
    {
        await using var cluster = await InProcessCluster.StartAsync(3);
        await cluster.WaitUntilReadyAsync();
        using var n1 = cluster.ClientFor(1);
        for (int i = 0; i < 10; i++)
            (await n1.PutAsync($"/v1/kv/m{i}", new ByteArrayContent([1, 2, 3]))).EnsureSuccessStatusCode();

        using var n2 = cluster.ClientFor(2);
        var reports = await n2.GetFromJsonAsync<NodeReport[]>("/v1/nodes", LsmRaft.Client.Wire.WireJson.Lenient);

        reports!.Select(r => r.NodeId).Should().Equal(1UL, 2UL, 3UL);
        var shards = cluster.Runtime(1).BuildClusterView().Shards;
        foreach (var report in reports!)
        {
            report.Error.Should().BeNull();
            var status = report.Status!;
            status.NodeId.Should().Be(report.NodeId);
            status.Ready.Should().BeTrue();
            status.HttpAddress.Should().Be(report.HttpAddress);
            // Every node holds every shard (3 nodes, RF 3) and the meta group (shard 0).
            status.Replicas.Select(r => r.ShardId).Should().Equal(new[] { 0UL }.Concat(shards.Select(s => s.Id).Order()));
            status.Replicas.Should().OnlyContain(r => r.Storage != null && r.Storage.Levels.Count > 0 && r.Term > 0 && r.Applied <= r.Commit);
        }
        foreach (var shard in shards)
        {
            var roles = reports.Select(r => r.Status!.Replicas.Single(x => x.ShardId == shard.Id)).ToList();
            roles.Count(r => r.Role == "leader").Should().Be(1, $"shard {shard.Id} has one leader");
            roles.Should().OnlyContain(r => r.Leader == shard.Leader);
        }
        reports.Sum(r => r.Status!.Replicas.Where(x => x.ShardId != 0).Sum(x => x.Storage!.MemtableBytes)).Should().BeGreaterThan(0, "the writes are in memtables");

        var traffic = await (await n1.GetAsync("/v1/node/traffic?last=3")).JsonAsync();
        traffic.GetProperty("nodeId").GetUInt64().Should().Be(1);
        traffic.GetProperty("samples").GetArrayLength().Should().BeInRange(1, 3);
        await (await n1.GetAsync("/v1/node/traffic?last=0")).ProblemAsync(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task The_event_stream_and_cluster_tail_report_a_leader_transfer_and_a_stopped_node()
    {
        await using var cluster = await InProcessCluster.StartAsync(3);
        await cluster.WaitUntilReadyAsync();
        // Readiness does not wait for every node's heartbeat to reach the registry.
        await cluster.WaitUntilAsync(1, r => r.BuildClusterView().Nodes.All(n => n.State == LsmRaft.Protocol.Cluster.NodeState.Up), Deadline, "node 1 sees every node up");
        string endpoint = $"http://127.0.0.1:{cluster.Configs.Single(c => c.PeerId == 1).HttpPort}";
        using var client = new LsmRaftClient(new LsmRaftClientOptions { Endpoints = [new Uri(endpoint)] });
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var events = client.FollowEventsAsync(null, stop.Token).GetAsyncEnumerator(stop.Token);
        (await events.MoveNextAsync()).Should().BeTrue();
        events.Current.Kind.Should().Be(ClusterEventKinds.Snapshot);
        events.Current.Text.Should().StartWith("node 1: 3 node(s), "); // how many are up depends on heartbeats being on time

        var output = new LockedWriter();
        using var tailStop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var context = new CliContext(output, new LockedWriter(), new Dictionary<string, string?>(), InContainer: false, null, null);
        var tail = RootCommandFactory.InvokeAsync(["cluster", "tail", "--json", "--endpoint", endpoint], context, tailStop.Token);
        await Poll.UntilAsync(() => output.ToString().Contains("\"kind\":\"snapshot\""), "cluster tail prints the snapshot");

        // A leader transfer made through the admin API reaches the stream as leader-changed.
        var shard = cluster.Runtime(1).BuildClusterView().Shards.First(s => s.Leader is not null);
        ulong target = shard.Replicas.First(r => r != shard.Leader);
        using var admin = new LsmRaftClient(new LsmRaftClientOptions { Endpoints = [new Uri(endpoint)] });
        await admin.TransferLeaderAsync(shard.Id, target);
        var changed = await NextAsync(events, e => e.Kind == ClusterEventKinds.LeaderChanged && e.ShardId == shard.Id && e.After == target.ToString());
        // Seen from node 1 the hand-over may pass through "no leader" (the old leader steps down before the new one wins).
        changed.Before.Should().BeOneOf(shard.Leader.ToString(), "none");
        changed.Sequence.Should().BeGreaterThan(0);

        // A stopped node turns down (its heartbeats stop) in the stream and in cluster tail.
        var stoppedAt = DateTimeOffset.UtcNow;
        await cluster.StopNodeWithoutHandOverAsync(3);
        var down = await NextAsync(events, e => e.Kind == ClusterEventKinds.NodeState && e.NodeId == 3 && e.After == "down" && e.Time >= stoppedAt);
        (down.Before, down.After).Should().Be(("up", "down"));
        await Poll.UntilAsync(() => output.ToString().Contains("\"kind\":\"node-state\""), "cluster tail prints the node going down");

        tailStop.Cancel();
        (await tail).Should().Be(ExitCodes.Ok, "Ctrl-C ends cluster tail normally");
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("kind").GetString()).Should()
            .Contain([ClusterEventKinds.Snapshot, ClusterEventKinds.LeaderChanged, ClusterEventKinds.NodeState]);
        ClusterTailCommand.Line(down).Should().MatchRegex(@"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}Z  node-state       node 3: up -> down$");
    }

    [Fact]
    public async Task Cluster_tail_reports_an_unreachable_node_with_exit_code_3()
    {
        var port = LsmRaft.Tests.Shared.LoopbackPorts.Free(1)[0];
        var error = new LockedWriter();
        var context = new CliContext(new LockedWriter(), error, new Dictionary<string, string?>(), InContainer: false, null, null);
        int code = await RootCommandFactory.InvokeAsync(["cluster", "tail", "--endpoint", $"http://127.0.0.1:{port}", "--timeout", "2"], context, CancellationToken.None);
        code.Should().Be(ExitCodes.Unavailable);
        error.ToString().Should().Contain("Could not open the event stream");
    }

    private static async Task<ClusterEvent> NextAsync(IAsyncEnumerator<ClusterEvent> events, Func<ClusterEvent, bool> match)
    {
        using var deadline = new CancellationTokenSource(Deadline);
        var seen = new List<string>();
        while (await events.MoveNextAsync().AsTask().WaitAsync(deadline.Token))
        {
            if (match(events.Current))
                return events.Current;
            seen.Add(events.Current.Text);
        }
        throw new InvalidOperationException($"the stream ended; events seen: {string.Join("; ", seen)}");
    }

    /// <summary>A text writer that the command writes to while the test reads it.</summary>
    private sealed class LockedWriter : TextWriter
    {
        private readonly StringBuilder _text = new();

        public override Encoding Encoding => Encoding.UTF8;

        public override void Write(char value)
        {
            lock (_text)
                _text.Append(value);
        }

        public override void Write(string? value)
        {
            lock (_text)
                _text.Append(value);
        }

        public override Task WriteLineAsync(string? value)
        {
            WriteLine(value);
            return Task.CompletedTask;
        }

        public override string ToString()
        {
            lock (_text)
                return _text.ToString();
        }
    }
}
