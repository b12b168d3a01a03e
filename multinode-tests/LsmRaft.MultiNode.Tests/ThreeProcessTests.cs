using System.Net;
using System.Text;
using System.Text.Json;
using LsmRaft.Protocol.Cluster;
using LsmRaft.Protocol.Hashing;

namespace LsmRaft.MultiNode.Tests;

/// <summary>
/// The origin's three `docker run` configurations as three real `lsmraft start` processes on 127.0.0.1:
/// PEER_ID, PORT, HTTP_PORT, GROUP_ID, PEERS and DATA_DIR set exactly as the containers set them (with
/// 127.0.0.1 and distinct free ports in place of the container host names).
/// </summary>
public sealed class ThreeProcessTests : IDisposable
{
    private readonly ProcessCluster<ulong> _cluster = LoopbackProcessCluster.Configure("lsmraft-multinode", 3, "lsmraft-multinode", "multinode-test-secret-0123456789");

    [Fact]
    public async Task A_write_through_n1_is_read_through_n3_and_survives_kill_9_of_the_shard_leader_and_its_restart()
    {
        for (ulong id = 1; id <= 3; id++)
            _cluster.Start(id);
        await _cluster.WaitReadyAsync(1, 2, 3);

        const string key = "origin-key";
        using (var n1 = Client(1))
        {
            var put = await n1.PutAsync($"/v0/entity?id={key}", new ByteArrayContent(Encoding.UTF8.GetBytes("hello")));
            put.StatusCode.Should().Be(HttpStatusCode.Created, Diagnostics());
        }
        (await GetAsync(3, key)).Should().Be("hello");

        ulong leader = await ShardLeaderAsync(1, key);
        leader.Should().NotBe(0, Diagnostics());
        _cluster[leader].Kill();
        ulong survivor = new ulong[] { 1, 2, 3 }.First(n => n != leader);
        (await GetAsync(survivor, key)).Should().Be("hello", "the value must survive kill -9 of the shard leader");
        using (var client = Client(survivor))
            (await client.PutAsync($"/v0/entity?id={key}-after", new ByteArrayContent(Encoding.UTF8.GetBytes("written-without-it")))).StatusCode.Should().Be(HttpStatusCode.Created, Diagnostics());

        _cluster.Start(leader);
        await _cluster.WaitReadyAsync(1, 2, 3);
        (await GetAsync(leader, key)).Should().Be("hello");
        (await GetAsync(leader, key + "-after")).Should().Be("written-without-it");
    }

    private HttpClient Client(ulong id) => _cluster.Client(id);

    private string Diagnostics() => _cluster.Diagnostics();

    /// <summary>
    /// GET /v0/entity once: the node itself routes to the shard leader and, while one is being elected,
    /// follows hints and retries within its request deadline, so the test needs no retry loop of its own.
    /// </summary>
    private async Task<string> GetAsync(ulong node, string key)
    {
        using var client = Client(node);
        var response = await client.GetAsync($"/v0/entity?id={key}");
        response.StatusCode.Should().Be(HttpStatusCode.OK, $"GET {key} through node {node}: {await response.Content.ReadAsStringAsync()}\n{Diagnostics()}");
        return await response.Content.ReadAsStringAsync();
    }

    private async Task<ulong> ShardLeaderAsync(ulong node, string key)
    {
        using var client = Client(node);
        ulong hash = KeyHash.Hash(Encoding.UTF8.GetBytes(key));
        // Every node holds a replica of every shard (3 nodes, RF 3), so once the node is ready its view names each leader.
        using var doc = JsonDocument.Parse(await client.GetStringAsync("/v1/cluster"));
        foreach (var shard in doc.RootElement.GetProperty("shards").EnumerateArray())
        {
            ulong start = shard.GetProperty("rangeStart").GetUInt64(), end = shard.GetProperty("rangeEnd").GetUInt64();
            if (hash >= start && hash <= end && shard.TryGetProperty("leader", out var leader) && leader.ValueKind == JsonValueKind.Number)
                return leader.GetUInt64();
        }
        return 0;
    }

    public void Dispose() => _cluster.Dispose();
}
