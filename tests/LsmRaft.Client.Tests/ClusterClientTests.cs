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

    [Fact]
    public async Task Over_grpc_every_operation_round_trips_and_a_forwarded_call_names_the_leader()
    {
        await using var cluster = await InProcessCluster.StartAsync(3, shardsPerNode: 2);
        await cluster.WaitUntilReadyAsync();
        var seeds = cluster.Configs.Select(c => new Uri($"http://127.0.0.1:{c.HttpPort}")).ToList();
        // Every call goes to node 1, which forwards what it does not lead.
        var resolver = new HintRecorder(new EndpointRouteResolver([seeds[0]]));
        using var client = new LsmRaftClient(new LsmRaftClientOptions
        {
            Endpoints = [seeds[0]], RouteResolver = resolver, Transport = LsmRaftTransport.Grpc, Timeout = TimeSpan.FromSeconds(30), ScanPageSize = 7,
        });

        for (int i = 0; i < 30; i++)
            await client.PutAsync(Encoding.UTF8.GetBytes($"g{i:D2}"), Encoding.UTF8.GetBytes($"v{i}"));
        for (int i = 0; i < 30; i++)
            Encoding.UTF8.GetString((await client.GetAsync(Encoding.UTF8.GetBytes($"g{i:D2}")))!.Value).Should().Be($"v{i}");
        var scanned = await client.ScanAsync(new ScanOptions { Prefix = "g"u8.ToArray() }).ToListAsync();
        scanned.Select(v => Encoding.UTF8.GetString(v.Key)).Should().Equal(Enumerable.Range(0, 30).Select(i => $"g{i:D2}"));
        ulong cas = await client.CompareAndSetAsync("gcas"u8.ToArray(), 0, "1"u8.ToArray());
        await Assert.ThrowsAsync<LsmRaftVersionConflictException>(() => client.CompareAndSetAsync("gcas"u8.ToArray(), 0, "2"u8.ToArray()));
        await client.BatchAsync([KvOperation.Put("gb"u8.ToArray(), "1"u8.ToArray())]);
        (await client.DeleteAsync("g00"u8.ToArray())).Should().BeTrue();
        (await client.GetAsync("g00"u8.ToArray())).Should().BeNull();
        cas.Should().BeGreaterThan(0);

        var view = await client.GetClusterAsync();
        view.Nodes.Should().HaveCount(3);
        var lookup = new LsmRaft.Protocol.Cluster.ShardMapLookup(view.Shards);
        var addresses = view.Nodes.ToDictionary(n => n.Id, n => new Uri(n.HttpAddress));
        var forwarded = Enumerable.Range(1, 29).Select(i => Encoding.UTF8.GetBytes($"g{i:D2}"))
            .Where(k => lookup.Find(k).Leader is { } leader && leader != cluster.Configs[0].PeerId).ToList();
        if (forwarded.Count > 0)
        {
            resolver.Hints.Should().NotBeEmpty("node 1 forwarded keys of shards it does not lead");
            resolver.Hints.Should().OnlyContain(h => addresses.Values.Contains(h), "a hint is a node's HTTP address");
        }
    }

    /// <summary>Routes through an inner resolver and records every leader hint the answers carried.</summary>
    private sealed class HintRecorder(IRouteResolver inner) : IRouteResolver
    {
        public System.Collections.Concurrent.ConcurrentBag<Uri> Hints { get; } = [];

        public ValueTask<Uri> SelectAsync(RouteRequest request, int attempt, CancellationToken cancellationToken) =>
            inner.SelectAsync(request, attempt, cancellationToken);

        public void Report(RouteRequest request, Uri endpoint, RouteOutcome outcome, Uri? leaderHint)
        {
            if (leaderHint is not null)
                Hints.Add(leaderHint);
            inner.Report(request, endpoint, outcome, leaderHint);
        }
    }
}
