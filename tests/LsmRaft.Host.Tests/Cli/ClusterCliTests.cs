using System.Reflection;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using LsmRaft.Client;
using LsmRaft.Client.Wire;
using LsmRaft.Host.Cli;
using LsmRaft.Host.Node;
using LsmRaft.Host.Tests.Cluster;
using LsmRaft.Protocol.Cluster;

namespace LsmRaft.Host.Tests.Cli;

/// <summary>
/// The pbm-style cluster verbs (<c>cluster show|leave|down|join</c>, <c>shards stats|show</c>) run in-process against
/// real nodes on loopback: tables, <c>--json</c>, and the exit codes of their errors.
/// </summary>
public sealed class ClusterCliTests
{
    private static readonly string BuildVersion =
        typeof(NodeRuntime).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion;

    private sealed record Outcome(int ExitCode, string Out, string Error)
    {
        public JsonElement Json => JsonDocument.Parse(Out).RootElement;
    }

    private static async Task<Outcome> RunAsync(InProcessCluster cluster, ulong node, params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var context = new CliContext(stdout, stderr, new Dictionary<string, string?>(), InContainer: false, NodeRunner: null, HttpHandler: null);
        string endpoint = $"http://127.0.0.1:{cluster.Configs.Single(c => c.PeerId == node).HttpPort}";
        int code = await RootCommandFactory.InvokeAsync([.. args, "--endpoint", endpoint], context, CancellationToken.None);
        return new Outcome(code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Each node learns the others' liveness from its own read of the node registry.</summary>
    private static async Task WaitUntilEveryNodeSeesEveryNodeUpAsync(InProcessCluster cluster)
    {
        foreach (var config in cluster.Configs)
            await cluster.WaitUntilAsync(config.PeerId, r => r.BuildClusterView().Nodes.All(n => n.State == NodeState.Up), TimeSpan.FromSeconds(30), "every node sees every node up");
    }

    [Fact]
    public async Task Show_stats_and_shard_detail_print_tables_and_json_and_errors_have_their_exit_codes()
    {
        const string token = "cli-test-admin-token-0123456789";
        await using var cluster = await InProcessCluster.StartAsync(3, shardsPerNode: 1, c => c with { AdminToken = token });
        await cluster.WaitUntilReadyAsync();
        await WaitUntilEveryNodeSeesEveryNodeUpAsync(cluster);

        var show = await RunAsync(cluster, 2, "cluster", "show");
        show.ExitCode.Should().Be(0, show.Error);
        show.Out.Should().Contain("3 node(s), 3 shard(s)").And.Contain("Uptime").And.Contain(StatusTables.ShortVersion(BuildVersion)).And.Contain("leader");
        foreach (var config in cluster.Configs)
            show.Out.Should().Contain($"127.0.0.1:{config.HttpPort}");

        var json = (await RunAsync(cluster, 2, "cluster", "show", "--json")).Json;
        var nodes = json.GetProperty("nodes").EnumerateArray().ToList();
        nodes.Select(n => n.GetProperty("id").GetUInt64()).Should().Equal(1UL, 2UL, 3UL);
        nodes.Should().OnlyContain(n => n.GetProperty("state").GetString() == "up" && n.GetProperty("version").GetString() == BuildVersion
            && n.GetProperty("uptimeSeconds").GetDouble() >= 0 && n.GetProperty("replicas").GetInt32() == 3 && n.GetProperty("reportError").ValueKind == JsonValueKind.Null);
        nodes.Count(n => n.GetProperty("metaLeader").GetBoolean()).Should().Be(1);

        var stats = await RunAsync(cluster, 3, "shards", "stats");
        stats.ExitCode.Should().Be(0, stats.Error);
        stats.Out.Should().Contain("Commit").And.Contain("Applied").And.Contain("Lag");
        // A node that does not answer within the status fan-out's 2 s (a loaded test machine) shows its replicas as
        // unreported; ask again, a bounded number of times, until every replica is reported.
        List<JsonElement> shards = [];
        for (int attempt = 0; attempt < 10; attempt++)
        {
            shards = (await RunAsync(cluster, 3, "shards", "stats", "--json")).Json.GetProperty("shards").EnumerateArray().ToList();
            if (shards.All(s => s.GetProperty("replicaStats").EnumerateArray().All(r => r.GetProperty("role").GetString() != "unreported")))
                break;
        }
        shards.Should().HaveCount(3);
        foreach (var shard in shards)
        {
            shard.GetProperty("leader").ValueKind.Should().Be(JsonValueKind.Number);
            shard.GetProperty("term").GetUInt64().Should().BeGreaterThan(0);
            shard.GetProperty("commit").GetUInt64().Should().BeGreaterThanOrEqualTo(shard.GetProperty("applied").GetUInt64() > 0 ? 1UL : 0UL);
            shard.GetProperty("sizeBytes").GetInt64().Should().BeGreaterThanOrEqualTo(0, "the leader's engine is open");
            var replicas = shard.GetProperty("replicaStats").EnumerateArray().ToList();
            replicas.Should().HaveCount(3);
            replicas.Count(r => r.GetProperty("role").GetString() == "leader").Should().Be(1);
            replicas.Should().OnlyContain(r => r.GetProperty("role").GetString() != "unreported");
        }

        ulong id = shards[0].GetProperty("id").GetUInt64();
        var detail = await RunAsync(cluster, 1, "shards", "show", id.ToString());
        detail.ExitCode.Should().Be(0, detail.Error);
        detail.Out.Should().Contain($"Shard {id}: hash range").And.Contain($"Replicas of shard {id}").And.Contain("follower");
        (await RunAsync(cluster, 1, "shards", "show", id.ToString(), "--json")).Json.GetProperty("id").GetUInt64().Should().Be(id);

        var unknownShard = await RunAsync(cluster, 1, "shards", "show", "77");
        unknownShard.ExitCode.Should().Be(ExitCodes.NotFound);
        unknownShard.Error.Should().Contain("shard 77 does not exist");

        // Admin verbs need the token: without it the cluster refuses (401, exit 4); with it the node's own answers follow.
        var noToken = await RunAsync(cluster, 1, "cluster", "down", "2");
        noToken.ExitCode.Should().Be(ExitCodes.Refused);
        noToken.Error.Should().Contain("admin token");

        var live = await RunAsync(cluster, 1, "cluster", "down", "2", "--token", token);
        live.ExitCode.Should().Be(ExitCodes.Refused, "node 2 is up");
        live.Error.Should().Contain("Node 2 is up").And.Contain("cluster leave 2");

        var unknownNode = await RunAsync(cluster, 1, "cluster", "down", "9", "--token", token);
        unknownNode.ExitCode.Should().Be(ExitCodes.NotFound);
        unknownNode.Error.Should().Contain("Node 9 is not a member");
        (await RunAsync(cluster, 1, "cluster", "leave", "9", "--token", token)).ExitCode.Should().Be(ExitCodes.NotFound);

        // Three nodes, three replicas per shard: no node can take node 1's replicas, so leaving is refused up front.
        var blocked = await RunAsync(cluster, 2, "cluster", "leave", "1", "--token", token);
        blocked.ExitCode.Should().Be(ExitCodes.Refused);
        blocked.Error.Should().Contain("cannot be drained").And.Contain("add a node first");

        var stranger = await RunAsync(cluster, 1, "cluster", "join", "127.0.0.1:1", "--token", token);
        stranger.ExitCode.Should().Be(ExitCodes.NotFound);
        stranger.Error.Should().Contain("--join");
        var malformed = await RunAsync(cluster, 1, "cluster", "join", "no-port", "--token", token);
        malformed.ExitCode.Should().Be(ExitCodes.BadInput);
        malformed.Error.Should().Contain("host:port");

        string peer2 = $"127.0.0.1:{cluster.Configs.Single(c => c.PeerId == 2).Port}";
        var member = await RunAsync(cluster, 3, "cluster", "join", peer2, "--token", token);
        member.ExitCode.Should().Be(0, member.Error);
        member.Out.Should().Contain($"Node 2 at {peer2} is a member (up)");
        (await RunAsync(cluster, 1, "cluster", "leave", "x", "--token", token)).ExitCode.Should().Be(ExitCodes.BadInput);
    }

    [Fact]
    public async Task Leave_drains_a_node_of_a_four_node_cluster_and_every_key_stays_readable_then_join_admits_it_and_down_replaces_a_dead_node()
    {
        // Rebalancing off: the only moves are the drain's and the repair's.
        await using var cluster = await InProcessCluster.StartAsync(4, shardsPerNode: 1, c => c with { Rebalance = false });
        await cluster.WaitUntilReadyAsync();
        await WaitUntilEveryNodeSeesEveryNodeUpAsync(cluster);
        using var http = cluster.ClientFor(1);
        var written = new Dictionary<string, string>();
        for (int i = 0; i < 60; i++)
        {
            string key = $"leave{i:D3}", value = $"v{i}";
            var put = await http.PutAsync($"/v1/kv/{key}", new ByteArrayContent(Encoding.UTF8.GetBytes(value)));
            put.IsSuccessStatusCode.Should().BeTrue(await put.Content.ReadAsStringAsync());
            written[key] = value;
        }
        var before = await http.GetFromJsonAsync<ClusterView>("/v1/cluster", WireJson.Lenient);
        before!.Shards.Count(s => s.Replicas.Contains(4UL)).Should().Be(3, "round-robin placement puts three of the four shards on node 4");

        var leave = await RunAsync(cluster, 2, "cluster", "leave", "4", "--wait", "120");
        leave.ExitCode.Should().Be(0, leave.Error);
        leave.Out.Should().Contain("Node 4 left the cluster").And.Contain("keeps its vote in the meta group");
        leave.Error.Should().Contain("node 4 leaving: 3 replica(s)").And.NotContain("blocked", "a shard whose move is under way is not blocked");

        // Node 2 answered the drain's progress from a fresh read of the map; other nodes catch up within a refresh.
        var after = (await RunAsync(cluster, 2, "cluster", "show", "--json")).Json;
        after.GetProperty("nodes").EnumerateArray().Single(n => n.GetProperty("id").GetUInt64() == 4).GetProperty("state").GetString().Should().Be("removed");
        after.GetProperty("shards").EnumerateArray().Should().OnlyContain(s => !s.GetProperty("replicas").EnumerateArray().Any(r => r.GetUInt64() == 4));
        after.GetProperty("shards").EnumerateArray().Should().OnlyContain(s => s.GetProperty("replicas").GetArrayLength() == 3);
        // Reads through the client, which retries while a shard elects a leader after a move.
        using var client = new LsmRaftClient(new LsmRaftClientOptions { Endpoints = [http.BaseAddress!], Timeout = TimeSpan.FromSeconds(30) });
        foreach (var (key, value) in written)
            Encoding.UTF8.GetString((await client.GetAsync(Encoding.UTF8.GetBytes(key)))!.Value).Should().Be(value, key);

        // The drain's progress stays readable; leaving again is idempotent-refused: the node is removed.
        var again = await RunAsync(cluster, 1, "cluster", "leave", "4");
        again.ExitCode.Should().Be(ExitCodes.Refused);
        again.Error.Should().Contain("removed already");

        string peer4 = $"127.0.0.1:{cluster.Configs.Single(c => c.PeerId == 4).Port}";
        var join = await RunAsync(cluster, 3, "cluster", "join", peer4);
        join.ExitCode.Should().Be(0, join.Error);
        join.Out.Should().Contain("Node 4").And.Contain("(up)");

        // Node 3 dies; 'down' refuses while it is up, then marks it removed and its replicas move to node 4 at once.
        await cluster.StopNodeAsync(3);
        await cluster.WaitUntilAsync(1, r => !r.SeemsAlive(3, DateTimeOffset.UtcNow), TimeSpan.FromSeconds(30), "node 3 shows down and disconnected");
        var down = await RunAsync(cluster, 1, "cluster", "down", "3");
        down.ExitCode.Should().Be(0, down.Error);
        down.Out.Should().Contain("Node 3 is marked removed");
        await cluster.WaitUntilAsync(1, r => r.BuildClusterView().Shards.All(s => !s.Replicas.Contains(3UL) && s.Replicas.Count == 3 && s.Learners.Count == 0),
            TimeSpan.FromSeconds(90), "node 3's replicas are re-created on node 4");
        foreach (var (key, value) in written)
            Encoding.UTF8.GetString((await client.GetAsync(Encoding.UTF8.GetBytes(key)))!.Value).Should().Be(value, key);
    }
}
