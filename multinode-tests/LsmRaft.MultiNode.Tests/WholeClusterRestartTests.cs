using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using LsmRaft.Protocol.Cluster;
using Xunit.Abstractions;

namespace LsmRaft.MultiNode.Tests;

/// <summary>
/// A whole-cluster restart with the first node of PEERS missing (issue 11: Raft never waits for Akka membership): any
/// majority of PEERS forms the Akka cluster, so the replicas of nodes 2 and 3 start and serve; node 1, back later,
/// joins their cluster instead of forming its own.
/// </summary>
public sealed class WholeClusterRestartTests(ITestOutputHelper output) : IDisposable
{
    /// <summary>The bound the brief sets for nodes 2 and 3 to serve after their restart.</summary>
    private static readonly TimeSpan ServeBound = TimeSpan.FromSeconds(60);

    private readonly ProcessCluster<ulong> _cluster = LoopbackProcessCluster.Configure("lsmraft-restart", 3, "lsmraft-restart", "restart-test-secret-0123456789");

    [Fact]
    public async Task After_kill_9_of_all_three_nodes_2_and_3_alone_serve_old_and_new_keys_and_node_1_rejoins_their_cluster()
    {
        for (ulong id = 1; id <= 3; id++)
            _cluster.Start(id);
        await _cluster.WaitReadyAsync(1, 2, 3);
        var before = Enumerable.Range(0, 10).Select(i => $"before-{i}").ToList();
        foreach (var key in before)
            (await PutAsync(1, key, "v-" + key)).Should().Be(HttpStatusCode.Created, Diagnostics());

        // A machine reboot while node 1's host stays dead: every process is killed, only 2 and 3 come back.
        foreach (ulong id in new ulong[] { 1, 2, 3 })
            _cluster[id].Kill();
        var restart = Stopwatch.StartNew();
        _cluster.Start(2);
        _cluster.Start(3);
        await _cluster.WaitReadyAsync(2, 3);
        (await PutAsync(3, "while-1-dead", "written-by-2-and-3")).Should().Be(HttpStatusCode.Created, Diagnostics());
        var served = restart.Elapsed;
        output.WriteLine($"nodes 2 and 3 ready and a write committed {served.TotalSeconds:F1} s after their restart (node 1 dead)");
        served.Should().BeLessThan(ServeBound, Diagnostics());
        foreach (var key in before)
            (await GetAsync(2, key)).Should().Be("v-" + key);
        (await GetAsync(2, "while-1-dead")).Should().Be("written-by-2-and-3");
        (await StatesAsync(2)).Should().Equal(new Dictionary<ulong, bool> { [1] = false, [2] = true, [3] = true });

        // Node 1 comes back: it asks first, sees members and joins their cluster; one cluster, seen alike by all.
        var rejoin = Stopwatch.StartNew();
        _cluster.Start(1);
        await _cluster.WaitReadyAsync(1, 2, 3);
        output.WriteLine($"node 1 ready {rejoin.Elapsed.TotalSeconds:F1} s after its start");
        (await GetAsync(1, "while-1-dead")).Should().Be("written-by-2-and-3");
        (await GetAsync(1, before[0])).Should().Be("v-" + before[0]);
        foreach (ulong id in new ulong[] { 1, 2, 3 })
            await UntilAllUpAsync(id);
        (await PutAsync(1, "after-1-back", "v")).Should().Be(HttpStatusCode.Created, Diagnostics());
    }

    private async Task<HttpStatusCode> PutAsync(ulong node, string key, string value)
    {
        using var client = _cluster.Client(node);
        return (await client.PutAsync($"/v0/entity?id={key}", new ByteArrayContent(Encoding.UTF8.GetBytes(value)))).StatusCode;
    }

    /// <summary>GET /v0/entity once: the node routes to the shard leader and follows hints within its request deadline.</summary>
    private async Task<string> GetAsync(ulong node, string key)
    {
        using var client = _cluster.Client(node);
        var response = await client.GetAsync($"/v0/entity?id={key}");
        response.StatusCode.Should().Be(HttpStatusCode.OK, $"GET {key} through node {node}: {await response.Content.ReadAsStringAsync()}\n{Diagnostics()}");
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>Node id → up, as <paramref name="node"/>'s /v1/cluster shows its Akka membership.</summary>
    private async Task<Dictionary<ulong, bool>> StatesAsync(ulong node)
    {
        using var client = _cluster.Client(node);
        using var doc = JsonDocument.Parse(await client.GetStringAsync("/v1/cluster"));
        return doc.RootElement.GetProperty("nodes").EnumerateArray().ToDictionary(
            n => n.GetProperty("id").GetUInt64(),
            n => n.GetProperty("state") is var state && (state.ValueKind == JsonValueKind.String
                ? string.Equals(state.GetString(), nameof(NodeState.Up), StringComparison.OrdinalIgnoreCase)
                : state.GetInt32() == (int)NodeState.Up));
    }

    /// <summary>Polls <paramref name="node"/>'s view (every 200 ms, at most 30 s: gossip reaches every member within seconds) until it shows all three up.</summary>
    private async Task UntilAllUpAsync(ulong node)
    {
        var deadline = Stopwatch.StartNew();
        Dictionary<ulong, bool> states;
        while (!(states = await StatesAsync(node)).Values.All(up => up) && deadline.Elapsed < TimeSpan.FromSeconds(30))
            await Task.Delay(200);
        states.Should().Equal(new Dictionary<ulong, bool> { [1] = true, [2] = true, [3] = true }, $"node {node} must see one cluster of all three\n{Diagnostics()}");
    }

    private string Diagnostics() => _cluster.Diagnostics();

    public void Dispose() => _cluster.Dispose();
}
