using System.Net;
using System.Text;

namespace LsmRaft.Host.Tests.Cluster;

/// <summary>Three real nodes on loopback: bootstrap, routing, forwarding, failover and restart.</summary>
public sealed class ClusterTests
{
    [Fact]
    public async Task A_write_through_one_node_is_read_through_every_node()
    {
        await using var cluster = await InProcessCluster.StartAsync(3);
        await cluster.WaitUntilReadyAsync();
        using var n1 = cluster.ClientFor(1);
        for (int i = 0; i < 20; i++)
        {
            var put = await n1.PutAsync($"/v1/kv/key{i}", new ByteArrayContent(Encoding.UTF8.GetBytes($"value{i}")));
            put.IsSuccessStatusCode.Should().BeTrue($"PUT key{i} answered {(int)put.StatusCode}: {await put.Content.ReadAsStringAsync()}");
        }
        foreach (ulong node in new ulong[] { 1, 2, 3 })
        {
            using var client = cluster.ClientFor(node);
            for (int i = 0; i < 20; i++)
            {
                var get = new HttpRequestMessage(HttpMethod.Get, $"/v1/kv/key{i}");
                get.Headers.Accept.ParseAdd("application/octet-stream");
                var response = await client.SendAsync(get);
                response.StatusCode.Should().Be(HttpStatusCode.OK, $"node {node} key{i}");
                (await response.Content.ReadAsStringAsync()).Should().Be($"value{i}");
            }
        }
        (await n1.GetAsync("/v1/kv/missing")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        var v0 = await cluster.ClientFor(3).GetAsync("/v0/entity?id=key7");
        v0.StatusCode.Should().Be(HttpStatusCode.OK);
        (await v0.Content.ReadAsStringAsync()).Should().Be("value7");

        // Stopping the whole cluster as `demo` does: every node's peer and HTTP connections end within the grace
        // period (peer connections never end on their own; the handler ends them when the node stops).
        foreach (ulong node in new ulong[] { 1, 2, 3 })
            (await cluster.StopNodeWithoutHandOverAsync(node)).Should().BeTrue($"node {node}'s connections end without being aborted");
    }

    [Fact]
    public async Task Scan_merges_keys_of_every_shard_in_order()
    {
        await using var cluster = await InProcessCluster.StartAsync(3);
        await cluster.WaitUntilReadyAsync();
        using var n2 = cluster.ClientFor(2);
        for (int i = 0; i < 30; i++)
            (await n2.PutAsync($"/v1/kv/s{i:D2}", new ByteArrayContent(Encoding.UTF8.GetBytes($"{i}")))).EnsureSuccessStatusCode();
        var body = await (await n2.GetAsync("/v1/kv?start=s00&end=s99&limit=100")).Content.ReadAsStringAsync();
        var positions = Enumerable.Range(0, 30).Select(i => body.IndexOf($"\"s{i:D2}\"", StringComparison.Ordinal)).ToList();
        positions.Should().OnlyContain(p => p >= 0, body);
        positions.Should().BeInAscendingOrder();
    }

    [Fact]
    public async Task Writes_resume_after_a_node_stops_and_its_data_survives_its_restart()
    {
        await using var cluster = await InProcessCluster.StartAsync(3);
        await cluster.WaitUntilReadyAsync();
        using (var n1 = cluster.ClientFor(1))
            for (int i = 0; i < 10; i++)
                (await n1.PutAsync($"/v1/kv/before{i}", new ByteArrayContent(Encoding.UTF8.GetBytes($"b{i}")))).EnsureSuccessStatusCode();

        await cluster.StopNodeAsync(3);
        using (var n1 = cluster.ClientFor(1))
            for (int i = 0; i < 10; i++)
                (await n1.PutAsync($"/v1/kv/during{i}", new ByteArrayContent(Encoding.UTF8.GetBytes($"d{i}")))).EnsureSuccessStatusCode();

        await cluster.StartNodeAsync(3);
        await cluster.WaitUntilReadyAsync();
        using var n3 = cluster.ClientFor(3);
        for (int i = 0; i < 10; i++)
        {
            (await GetRawAsync(n3, $"before{i}")).Should().Be($"b{i}");
            (await GetRawAsync(n3, $"during{i}")).Should().Be($"d{i}");
        }
    }

    [Fact]
    public async Task Leadership_of_a_shard_moves_to_the_named_node_through_any_node()
    {
        await using var cluster = await InProcessCluster.StartAsync(3, shardsPerNode: 1);
        await cluster.WaitUntilReadyAsync();
        using var n2 = cluster.ClientFor(2);
        using var doc = System.Text.Json.JsonDocument.Parse(await n2.GetStringAsync("/v1/cluster"));
        var shard = doc.RootElement.GetProperty("shards")[0];
        ulong shardId = shard.GetProperty("id").GetUInt64();
        ulong leader = shard.GetProperty("leader").GetUInt64();
        ulong target = shard.GetProperty("replicas").EnumerateArray().Select(r => r.GetUInt64()).First(r => r != leader);

        var transfer = await n2.PostAsync($"/v1/admin/shards/{shardId}/transfer-leader",
            new StringContent($"{{\"to\":{target}}}", Encoding.UTF8, "application/json"));
        transfer.StatusCode.Should().Be(HttpStatusCode.Accepted, await transfer.Content.ReadAsStringAsync());
        await cluster.WaitUntilAsync(target, runtime => runtime.BuildClusterView().Shards.First(x => x.Id == shardId).Leader == target,
            TimeSpan.FromSeconds(10), $"node {target} leads shard {shardId}");
        using var after = System.Text.Json.JsonDocument.Parse(await cluster.ClientFor(target).GetStringAsync("/v1/cluster"));
        ulong now = after.RootElement.GetProperty("shards").EnumerateArray().First(x => x.GetProperty("id").GetUInt64() == shardId).GetProperty("leader").GetUInt64();
        now.Should().Be(target);

        // A write sent to a node that does not lead the key's shard names the leader's HTTP address (LsmRaft-Leader).
        var shards = System.Text.Json.JsonSerializer.Deserialize<LsmRaft.Protocol.Cluster.ClusterView>(await n2.GetStringAsync("/v1/cluster"), LsmRaft.Client.Wire.WireJson.Lenient)!.Shards;
        var lookup = new LsmRaft.Protocol.Cluster.ShardMapLookup(shards);
        string key = Enumerable.Range(0, 1000).Select(i => $"hint{i}").First(k => lookup.Find(Encoding.UTF8.GetBytes(k)).Id == shardId);
        ulong via = new ulong[] { 1, 2, 3 }.First(n => n != target);
        using var viaClient = cluster.ClientFor(via);
        var put = await viaClient.PutAsync($"/v1/kv/{key}", new ByteArrayContent("v"u8.ToArray()));
        put.EnsureSuccessStatusCode();
        put.Headers.GetValues("LsmRaft-Leader").Should().Equal($"http://127.0.0.1:{cluster.Configs.Single(c => c.PeerId == target).HttpPort}");
        var direct = await cluster.ClientFor(target).PutAsync($"/v1/kv/{key}", new ByteArrayContent("w"u8.ToArray()));
        direct.EnsureSuccessStatusCode();
        direct.Headers.Contains("LsmRaft-Leader").Should().BeFalse("the leader's own node answered");

        (await n2.PostAsync("/v1/admin/shards/999/transfer-leader", new StringContent("{\"to\":1}", Encoding.UTF8, "application/json"))).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task The_cluster_view_reports_a_stopped_node_down_and_up_again_after_its_restart()
    {
        await using var cluster = await InProcessCluster.StartAsync(3, shardsPerNode: 1);
        await cluster.WaitUntilReadyAsync();
        using var n1 = cluster.ClientFor(1);
        (await NodeStateAsync(cluster, n1, 3, LsmRaft.Protocol.Cluster.NodeState.Up)).Should().Be("up");
        await cluster.StopNodeAsync(3);
        (await NodeStateAsync(cluster, n1, 3, LsmRaft.Protocol.Cluster.NodeState.Down)).Should().Be("down");
        await cluster.StartNodeAsync(3);
        (await NodeStateAsync(cluster, n1, 3, LsmRaft.Protocol.Cluster.NodeState.Up)).Should().Be("up");
    }

    /// <summary>
    /// Waits until node 1 sees <paramref name="node"/> in <paramref name="expected"/> state (liveness needs up to 5 s of
    /// silence), then reads the state as served over HTTP. Liveness can flap between the two reads on a starved
    /// machine (a heartbeat 5 s late), so a disagreeing HTTP answer waits for the state again, at most five times.
    /// </summary>
    private static async Task<string> NodeStateAsync(InProcessCluster cluster, HttpClient client, ulong node, LsmRaft.Protocol.Cluster.NodeState expected)
    {
        string served = "";
        for (int attempt = 0; attempt < 5; attempt++)
        {
            await cluster.WaitUntilAsync(1, runtime => runtime.BuildClusterView().Nodes.First(n => n.Id == node).State == expected,
                TimeSpan.FromSeconds(20), $"node {node} is {expected}");
            using var doc = System.Text.Json.JsonDocument.Parse(await client.GetStringAsync("/v1/cluster"));
            served = doc.RootElement.GetProperty("nodes").EnumerateArray().First(n => n.GetProperty("id").GetUInt64() == node).GetProperty("state").ToString().ToLowerInvariant();
            if (served == expected.ToString().ToLowerInvariant())
                break;
        }
        return served;
    }

    private static async Task<string> GetRawAsync(HttpClient client, string key)
    {
        var get = new HttpRequestMessage(HttpMethod.Get, $"/v1/kv/{key}");
        get.Headers.Accept.ParseAdd("application/octet-stream");
        var response = await client.SendAsync(get);
        response.StatusCode.Should().Be(HttpStatusCode.OK, key);
        return await response.Content.ReadAsStringAsync();
    }

    [Fact]
    public async Task Cluster_view_lists_nodes_shards_and_leaders()
    {
        await using var cluster = await InProcessCluster.StartAsync(3, shardsPerNode: 2);
        await cluster.WaitUntilReadyAsync();
        var json = await cluster.ClientFor(2).GetStringAsync("/v1/cluster");
        json.Should().Contain("\"shards\"").And.Contain("\"nodes\"");
        System.Text.Json.JsonDocument.Parse(json).RootElement.GetProperty("shards").GetArrayLength().Should().Be(6);
    }
}
