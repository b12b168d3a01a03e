using System.Text;
using LsmRaft.Client;
using LsmRaft.Client.Routing;
using LsmRaft.Host.Tests.Cluster;

namespace LsmRaft.Client.Tests;

/// <summary>The client against a real three-node cluster in this process (TCP peers, Raft, routing).</summary>
public sealed class ClusterClientTests
{
    [Fact]
    public async Task Shard_routing_sends_keys_to_their_leaders_and_every_operation_round_trips()
    {
        await using var cluster = await InProcessCluster.StartAsync(3, shardsPerNode: 2);
        await cluster.WaitUntilReadyAsync();
        var seeds = cluster.Configs.Select(c => new Uri($"http://127.0.0.1:{c.HttpPort}")).ToList();
        using var resolver = new ShardRouteResolver(seeds, refreshInterval: TimeSpan.Zero);
        using var client = new LsmRaftClient(new LsmRaftClientOptions { Endpoints = seeds, RouteResolver = resolver, Timeout = TimeSpan.FromSeconds(30) });

        for (int i = 0; i < 30; i++)
            await client.PutAsync(Encoding.UTF8.GetBytes($"c{i:D2}"), Encoding.UTF8.GetBytes($"v{i}"));
        for (int i = 0; i < 30; i++)
        {
            var value = await client.GetAsync(Encoding.UTF8.GetBytes($"c{i:D2}"));
            value.Should().NotBeNull();
            Encoding.UTF8.GetString(value!.Value).Should().Be($"v{i}");
        }

        // The cached map places every key on the node that leads its shard.
        var view = await client.GetClusterAsync();
        var lookup = new LsmRaft.Protocol.Cluster.ShardMapLookup(view.Shards);
        var byNode = view.Nodes.ToDictionary(n => n.Id, n => new Uri(n.HttpAddress.TrimEnd('/') + "/"));
        for (int i = 0; i < 30; i++)
        {
            var key = Encoding.UTF8.GetBytes($"c{i:D2}");
            var leader = lookup.Find(key).Leader;
            leader.Should().NotBeNull();
            resolver.LeaderEndpointOf(key).Should().Be(byNode[leader!.Value], $"key c{i:D2}");
        }

        (await client.CompareAndSetAsync(Encoding.UTF8.GetBytes("cas"), 0, Encoding.UTF8.GetBytes("1"))).Should().BeGreaterThan(0);
        (await client.DeleteAsync(Encoding.UTF8.GetBytes("c00"))).Should().BeTrue();
        (await client.GetAsync(Encoding.UTF8.GetBytes("c00"))).Should().BeNull();
    }
}
