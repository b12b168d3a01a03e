using Akka.Actor;
using LsmRaft.Host.Sharding;
using LsmRaft.Protocol.Cluster;
using LsmRaft.Host.Tests.Cluster;
using LsmRaft.Host.Tests.Support;
using LsmRaft.Tests.Shared;

namespace LsmRaft.Host.Tests.Sharding;

/// <summary>
/// The replica region across actor systems in this process: a replica starts only on the node that holds its disk,
/// however long that node is away, and an entity without its manifest never becomes a Raft member.
/// </summary>
public sealed class ReplicaRegionTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_replica_of_an_absent_node_starts_nowhere_until_that_node_joins_then_only_there()
    {
        // Ports in the order that broke the shard coordinator under serialize-messages when member ages were lost (the
        // last node to join has the lowest address: SerializeMessagesAkkaInternalsTests), so every run covers it.
        int[] ports = [.. LoopbackPorts.Free(3).OrderDescending()];
        await using var node1 = ReplicaSystem.Start(1, seed: null, akkaPort: ports[0]);
        await using var node2 = ReplicaSystem.Start(2, node1.Address, akkaPort: ports[1]);
        await Poll.UntilAsync(() => node1.UpMembers == 2 && node2.UpMembers == 2, "nodes 1 and 2 are up members", Deadline);

        // Node 2 asks for a replica of node 3, which is not in the cluster: the coordinator (on node 1, the oldest) refuses
        // again and again, and neither the requester nor anyone else starts it.
        node2.Sharding.Region.Tell(new StartReplicaEntity(3, 7, 3));
        await WithViewsAsync(Poll.UntilAsync(() => node1.Sharding.Allocation.Refusals + node2.Sharding.Allocation.Refusals >= 3, "the coordinator refused shard 3 three times", Deadline), node1, node2);
        node1.Host.Opened.Should().BeEmpty("node 1 holds no disk of node 3");
        node2.Host.Opened.Should().BeEmpty("the requester is never a fallback");

        // Node 3 joins: the buffered start reaches its region, and only it.
        await using var node3 = ReplicaSystem.Start(3, node1.Address, akkaPort: ports[2]);
        await WithViewsAsync(Poll.UntilAsync(() => node3.Host.Registered.ContainsKey(7), "replica 3 of group 7 is registered on node 3", Deadline), node1, node2, node3);
        node3.Host.Opened.Should().Equal(new ReplicaEntityId(7, 3));
        node1.Host.Opened.Should().BeEmpty();
        node2.Host.Opened.Should().BeEmpty();

        // A stop sent through another node's region reaches the entity: it stops, its replica actor with it, and unregisters.
        node1.Sharding.Region.Tell(new StopReplicaEntity(3, 7, 3));
        await node3.Host.Registered[7].Stopped.WaitAsync(Deadline);
        node3.Host.Unregistered.Should().Equal(7UL);
    }

    /// <summary>Awaits <paramref name="wait"/>; a timeout says what each node sees of the cluster and the region.</summary>
    private static async Task WithViewsAsync(Task wait, params ReplicaSystem[] nodes)
    {
        try
        {
            await wait;
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message} What each node sees: {string.Join(" | ", nodes.Select(n => n.Describe()))}", e);
        }
    }

    [Fact]
    public async Task An_entity_without_a_manifest_for_its_exact_replica_never_becomes_a_raft_member()
    {
        await using var cluster = await InProcessCluster.StartAsync(1, shardsPerNode: 1);
        await cluster.WaitUntilReadyAsync();
        var runtime = cluster.Runtime(1);
        var region = cluster.Services(1).GetRequiredService<ReplicaSharding>().Region;
        string groups = Path.Combine(cluster.Configs[0].DataDir, "groups");

        // A group this node holds no replica of; the meta group (which it does hold, as incarnation 0) under this node's
        // next incarnation, as if a wrong allocation started a replica without its log; and a replica of another node.
        ulong laterIncarnation = new ReplicaId(1, 1).Value;
        region.Tell(new StartReplicaEntity(1, 999, 1));
        region.Tell(new StartReplicaEntity(1, 0, laterIncarnation));
        region.Tell(new StartReplicaEntity(1, 0, 5));
        await Poll.UntilAsync(() => runtime.RefusedReplicas.Count == 3, "all three entities refused", Deadline);

        runtime.RefusedReplicas[new ReplicaEntityId(999, 1)].Should().Contain("holds no manifest");
        runtime.RefusedReplicas[new ReplicaEntityId(0, laterIncarnation)].Should().Contain("names replica 1").And.Contain("not this one");
        runtime.RefusedReplicas[new ReplicaEntityId(0, 5)].Should().Contain("belongs to node 5");
        runtime.ReplicaIdOf(0).Should().Be(1UL, "the meta group's replica here keeps running under its own id");
        Directory.Exists(Path.Combine(groups, "999")).Should().BeFalse("a refused entity creates nothing on disk");
        runtime.LogHoldsEntriesOf(999).Should().BeFalse("and writes nothing to the node log");
        runtime.LeaderOf(999).Should().BeNull();
        runtime.IsReady.Should().BeTrue($"the node's own replicas are unaffected ({runtime.Reason})");
        (await cluster.ClientFor(1).PutAsync("/v1/kv/after-refusal", new StringContent("v"))).StatusCode.Should().Be(HttpStatusCode.OK);
    }
}
