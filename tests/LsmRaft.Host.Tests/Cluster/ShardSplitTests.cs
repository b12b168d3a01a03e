using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;

namespace LsmRaft.Host.Tests.Cluster;

/// <summary>Splitting a shard on a live three-node cluster: the map changes through the meta group, nothing acknowledged is lost.</summary>
public sealed class ShardSplitTests
{
    [Fact]
    public async Task A_shard_splits_while_writes_continue_and_every_acknowledged_write_survives_a_restart()
    {
        await using var cluster = await InProcessCluster.StartAsync(3, shardsPerNode: 1);
        await cluster.WaitUntilReadyAsync();
        using var n1 = cluster.ClientFor(1);
        using var n2 = cluster.ClientFor(2);
        var before = await ShardsAsync(n2);
        before.Should().HaveCount(3);
        var parent = before[0];

        // A writer keeps writing through node 1 until the split is done and 100 more writes landed (bounded: 2,000 writes).
        var acknowledged = new ConcurrentDictionary<string, string>();
        var splitDone = new TaskCompletionSource();
        var writer = Task.Run(async () =>
        {
            int afterSplit = 0;
            for (int i = 0; i < 2000 && afterSplit < 100; i++)
            {
                string key = $"k{i:D5}", value = $"v{i}";
                var put = await n1.PutAsync($"/v1/kv/{key}", new ByteArrayContent(Encoding.UTF8.GetBytes(value)));
                put.IsSuccessStatusCode.Should().BeTrue($"PUT {key} answered {(int)put.StatusCode}: {await put.Content.ReadAsStringAsync()}");
                acknowledged[key] = value;
                if (splitDone.Task.IsCompleted)
                    afterSplit++;
            }
        });
        while (acknowledged.Count < 50 && !writer.IsCompleted)
            await Task.WhenAny(writer, Task.Delay(10));

        var split = await n2.PostAsync($"/v1/admin/shards/{parent.Id}/split", null);
        split.StatusCode.Should().Be(HttpStatusCode.Accepted, await split.Content.ReadAsStringAsync());
        splitDone.SetResult();
        await writer;

        var after = await ShardsAsync(n2);
        after.Should().HaveCount(4);
        var child = after.Single(s => before.All(b => b.Id != s.Id));
        var shrunk = after.Single(s => s.Id == parent.Id);
        shrunk.RangeStart.Should().Be(parent.RangeStart);
        child.RangeEnd.Should().Be(parent.RangeEnd);
        child.RangeStart.Should().Be(shrunk.RangeEnd + 1);
        shrunk.Epoch.Should().Be(parent.Epoch + 1);
        child.Epoch.Should().Be(parent.Epoch + 1);
        child.Replicas.Should().BeEquivalentTo(parent.Replicas);
        await cluster.WaitUntilAsync(3, r => r.BuildClusterView().Shards.Count == 4, TimeSpan.FromSeconds(10), "node 3 sees the split");

        await ExpectAllAsync(cluster.ClientFor(3), acknowledged);
        await ExpectScanAsync(n1, acknowledged);

        // The new shard's replicas restart from their own directories.
        await cluster.StopNodeAsync(2);
        await cluster.StartNodeAsync(2);
        await cluster.WaitUntilReadyAsync();
        using var restarted = cluster.ClientFor(2);
        (await ShardsAsync(restarted)).Should().HaveCount(4);
        await ExpectAllAsync(restarted, acknowledged);
        (await restarted.PostAsync("/v1/admin/shards/999/split", null)).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    private static async Task ExpectAllAsync(HttpClient client, IReadOnlyDictionary<string, string> expected)
    {
        foreach (var (key, value) in expected)
        {
            var get = new HttpRequestMessage(HttpMethod.Get, $"/v1/kv/{key}");
            get.Headers.Accept.ParseAdd("application/octet-stream");
            var response = await client.SendAsync(get);
            response.StatusCode.Should().Be(HttpStatusCode.OK, $"acknowledged key {key}: {await response.Content.ReadAsStringAsync()}");
            (await response.Content.ReadAsStringAsync()).Should().Be(value, key);
        }
    }

    /// <summary>A scan over every key returns each acknowledged key exactly once (the old shard kept none of the moved half).</summary>
    private static async Task ExpectScanAsync(HttpClient client, IReadOnlyDictionary<string, string> expected)
    {
        using var doc = JsonDocument.Parse(await client.GetStringAsync($"/v1/kv?start=k&end=l&limit={expected.Count + 10}"));
        var keys = doc.RootElement.GetProperty("items").EnumerateArray().Select(e => e.GetProperty("key").GetString()!).ToList();
        keys.Should().OnlyHaveUniqueItems();
        keys.Should().BeEquivalentTo(expected.Keys);
        keys.Should().BeInAscendingOrder(StringComparer.Ordinal);
    }

    private static async Task<List<LsmRaft.Protocol.Cluster.ShardInfo>> ShardsAsync(HttpClient client)
    {
        var view = JsonSerializer.Deserialize<LsmRaft.Protocol.Cluster.ClusterView>(await client.GetStringAsync("/v1/cluster"), LsmRaft.Client.Wire.WireJson.Lenient)!;
        return view.Shards.OrderBy(s => s.Id).ToList();
    }
}
