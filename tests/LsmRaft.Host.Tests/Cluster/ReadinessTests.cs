using System.Text.Json;
using LsmRaft.Actors.Replica;
using LsmRaft.Host.Cli;
using LsmRaft.Host.Config;
using LsmRaft.Host.Node;
using LsmRaft.Host.Tests.Support;
using LsmRaft.Protocol.Hashing;
using LsmRaft.Tests.Shared;

namespace LsmRaft.Host.Tests.Cluster;

/// <summary>
/// <c>/readyz</c> tells the truth: 503 with the reason while a replica here cannot serve or a shard has nowhere to
/// go, and <c>lsmraft start</c> exits when no replica of the node can ever open.
/// </summary>
public sealed class ReadinessTests
{
    /// <summary>Passes the node's settings but not the engine's (1..30 hash functions).</summary>
    private static NodeConfig RefusedByEngine(NodeConfig config) => config with { BloomHashFuncs = 31 };

    [Fact]
    public async Task An_engine_that_refuses_its_options_stops_every_replica_and_readyz_and_the_cluster_view_name_the_option()
    {
        await using var cluster = await InProcessCluster.StartAsync(1, shardsPerNode: 2, RefusedByEngine);
        var runtime = cluster.Runtime(1);
        await cluster.WaitUntilAsync(1, r => r.Fatal is not null, TimeSpan.FromSeconds(30), "every replica stops for good");
        runtime.Fatal!.EngineRefusedOptions.Should().BeTrue();
        runtime.Fatal.Reason.Should().Contain("BloomHashFunctions");

        using var client = cluster.ClientFor(1);
        var problem = await (await client.GetAsync("/readyz")).ProblemAsync(HttpStatusCode.ServiceUnavailable);
        problem.GetProperty("detail").GetString().Should().Contain("stopped for good").And.Contain("BloomHashFunctions");

        var failed = (await (await client.GetAsync("/v1/cluster")).JsonAsync()).GetProperty("failedReplicas").EnumerateArray().ToList();
        failed.Select(f => f.GetProperty("groupId").GetUInt64()).Should().BeEquivalentTo(new ulong[] { 0, 1, 2 }, "the meta group and both shards failed");
        failed.Should().OnlyContain(f => f.GetProperty("cause").GetString()!.Contains("BloomHashFunctions") && f.GetProperty("failures").GetInt32() == 1,
            "a refused option is not retried: restarting cannot fix it");
    }

    [Fact]
    public async Task Start_exits_with_code_2_when_the_engine_refuses_the_options_and_3_when_no_replica_can_open()
    {
        string root = Path.Combine(Path.GetTempPath(), "lsmraft-ready-" + Guid.NewGuid().ToString("N"));
        try
        {
            var ports = LoopbackPorts.FreePeerPorts(1, others: 1);
            var config = new NodeConfig
            {
                PeerId = 1,
                Port = ports[0],
                HttpPort = ports[1],
                DataDir = Path.Combine(root, "refused"),
                BindAddress = "127.0.0.1",
                Shards = 1,
            };
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            (await new NodeRunner().RunAsync(RefusedByEngine(config), deadline.Token)).Should().Be(2);
            deadline.IsCancellationRequested.Should().BeFalse("the node exits on its own, not at the test's deadline");

            // Every replica's engine directory is a file: opening fails the same way on every restart.
            string broken = Path.Combine(root, "broken");
            foreach (var group in new[] { "0", "1" })
            {
                Directory.CreateDirectory(Path.Combine(broken, "groups", group));
                await File.WriteAllTextAsync(Path.Combine(broken, "groups", group, "engine"), "not a directory");
            }
            var fastRestarts = new RestartPolicy { MaxRestarts = 2, MinBackoff = TimeSpan.FromMilliseconds(5), MaxBackoff = TimeSpan.FromMilliseconds(20) };
            (await new NodeRunner().RunAsync(config with { DataDir = broken, StorageRestarts = fastRestarts }, deadline.Token)).Should().Be(3);
            deadline.IsCancellationRequested.Should().BeFalse();
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task Demo_exits_with_code_3_when_a_port_of_its_nodes_is_in_use()
    {
        string root = Path.Combine(Path.GetTempPath(), "lsmraft-demo-" + Guid.NewGuid().ToString("N"));
        var ports = LoopbackPorts.Free(2); // node 1's peer port, and its HTTP port one above when free
        using var squatter = new System.Net.Sockets.TcpListener(IPAddress.Loopback, ports[0] + 1);
        try
        {
            squatter.Start();
        }
        catch (System.Net.Sockets.SocketException)
        {
            // Taken by another process meanwhile: the port is in use all the same.
        }
        try
        {
            var options = DemoOptions.Create(nodes: 1, dataDir: root, basePort: ports[0]);
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            (await new NodeRunner().RunDemoAsync(options, deadline.Token)).Should().Be(3);
            deadline.IsCancellationRequested.Should().BeFalse();
        }
        finally
        {
            if (Directory.Exists(root))
                Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task A_replica_whose_storage_keeps_failing_is_given_up_after_its_restarts_and_reported_while_the_others_serve()
    {
        var fastRestarts = new RestartPolicy { MaxRestarts = 3, MinBackoff = TimeSpan.FromMilliseconds(5), MaxBackoff = TimeSpan.FromMilliseconds(20) };
        await using var cluster = await InProcessCluster.StartAsync(1, shardsPerNode: 2, c =>
        {
            // Shard 2's engine directory is a file: each attempt to open it fails with an I/O error, which is retried.
            string dir = Path.Combine(c.DataDir, "groups", "2");
            Directory.CreateDirectory(dir);
            File.WriteAllText(Path.Combine(dir, "engine"), "not a directory");
            return c with { StorageRestarts = fastRestarts, RequestTimeout = TimeSpan.FromSeconds(2) };
        });
        var runtime = cluster.Runtime(1);
        await cluster.WaitUntilAsync(1, r => r.BuildClusterView().FailedReplicas is [_], TimeSpan.FromSeconds(30), "shard 2's replica is given up");
        runtime.Fatal.Should().BeNull("the meta group and shard 1 still run");

        using var client = cluster.ClientFor(1);
        var failed = (await (await client.GetAsync("/v1/cluster")).JsonAsync()).GetProperty("failedReplicas").EnumerateArray().Single();
        failed.GetProperty("groupId").GetUInt64().Should().Be(2);
        failed.GetProperty("nodeId").GetUInt64().Should().Be(1);
        failed.GetProperty("failures").GetInt32().Should().Be(fastRestarts.MaxRestarts + 1, "the first attempt and every restart failed");
        failed.GetProperty("cause").GetString().Should().Contain("engine");
        var problem = await (await client.GetAsync("/readyz?wait=1")).ProblemAsync(HttpStatusCode.ServiceUnavailable);
        problem.GetProperty("detail").GetString().Should().Contain("group 2").And.Contain("stopped for good");

        // The cluster view no longer names this node as shard 2's leader; its keys get 503, shard 1's are served.
        var shard2 = (await (await client.GetAsync("/v1/cluster")).JsonAsync()).GetProperty("shards").EnumerateArray()
            .Single(s => s.GetProperty("id").GetUInt64() == 2);
        shard2.GetProperty("leader").ValueKind.Should().Be(JsonValueKind.Null);
        ulong start = shard2.GetProperty("rangeStart").GetUInt64(), end = shard2.GetProperty("rangeEnd").GetUInt64();
        var keys = Enumerable.Range(0, 64).Select(i => $"key-{i}").ToList();
        bool InShard2(string key) => KeyHash.Hash(Encoding.UTF8.GetBytes(key)) is var h && h >= start && h <= end;
        string lost = keys.First(InShard2), served = keys.First(k => !InShard2(k));
        // Shard 1 may be electing when the replica of shard 2 is given up (a busy machine): its keys are served within a bounded wait.
        HttpResponseMessage put = await client.PutAsync($"/v1/kv/{served}", new StringContent("v"));
        for (int attempt = 0; attempt < 50 && put.StatusCode == HttpStatusCode.ServiceUnavailable; attempt++)
        {
            await client.GetAsync("/readyz?wait=1");
            put = await client.PutAsync($"/v1/kv/{served}", new StringContent("v"));
        }
        put.IsSuccessStatusCode.Should().BeTrue(await put.Content.ReadAsStringAsync());
        await (await client.PutAsync($"/v1/kv/{lost}", new StringContent("v"))).ProblemAsync(HttpStatusCode.ServiceUnavailable);
    }

    [Fact]
    public async Task A_shard_whose_every_replica_is_unreachable_makes_the_other_nodes_unready_until_it_is_back()
    {
        // One replica per shard: stopping a node leaves its shards with no replica anywhere else.
        await using var cluster = await InProcessCluster.StartAsync(3, shardsPerNode: 1, c => c with { ReplicationFactor = 1, Rebalance = false });
        await cluster.WaitUntilReadyAsync();
        using var n1 = cluster.ClientFor(1);
        var shards = (await (await n1.GetAsync("/v1/cluster")).JsonAsync()).GetProperty("shards").EnumerateArray().ToList();
        ulong onNode3 = shards.Single(s => s.GetProperty("replicas").EnumerateArray().Single().GetUInt64() == 3).GetProperty("id").GetUInt64();

        await cluster.StopNodeAsync(3);
        await cluster.WaitUntilAsync(1, r => !r.IsReady, TimeSpan.FromSeconds(20), "node 1 notices that node 3 is gone");
        var problem = await (await n1.GetAsync("/readyz")).ProblemAsync(HttpStatusCode.ServiceUnavailable);
        problem.GetProperty("detail").GetString().Should().Contain($"shard {onNode3} has no replica on a node reachable");

        await cluster.StartNodeAsync(3);
        await cluster.WaitUntilReadyAsync();
        (await (await n1.GetAsync("/readyz")).JsonAsync()).GetProperty("ready").GetBoolean().Should().BeTrue();
    }
}
