using Akka.Actor;
using LsmRaft.Host.Sharding;
using LsmRaft.Host.Tests.Sharding;
using LsmRaft.Host.Tests.Support;
using LsmRaft.Tests.Shared;
using MemberStatus = Akka.Cluster.MemberStatus;

namespace LsmRaft.Host.Tests.Membership;

/// <summary>
/// The cluster forms from any majority of PEERS, not through the first one (three actor systems in this process, built
/// as nodes build them, each running the production bootstrap).
/// </summary>
public sealed class ClusterBootstrapTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Nodes_2_and_3_form_the_cluster_while_node_1_is_dead_their_replicas_start_and_node_1_joins_them_later()
    {
        var ports = LoopbackPorts.Free(3);
        var peers = new Dictionary<ulong, int> { [1] = ports[0], [2] = ports[1], [3] = ports[2] };
        await using var node2 = ReplicaSystem.StartInPeers(2, peers);
        await using var node3 = ReplicaSystem.StartInPeers(3, peers);
        await WithViewsAsync(Poll.UntilAsync(() => UpNodes(node2) == "2,3" && UpNodes(node3) == "2,3", "nodes 2 and 3 are up members of one cluster", Deadline), node2, node3);

        // Their replica region allocates: each node's entity starts on its own node.
        node3.Sharding.Region.Tell(new StartReplicaEntity(2, 7, 2));
        node2.Sharding.Region.Tell(new StartReplicaEntity(3, 8, 3));
        await WithViewsAsync(Poll.UntilAsync(() => node2.Host.Registered.ContainsKey(7) && node3.Host.Registered.ContainsKey(8), "node 2's and node 3's entities started", Deadline), node2, node3);

        // Node 1 (the lowest id) comes back: it asks first, sees members, and joins their cluster instead of forming one.
        await using var node1 = ReplicaSystem.StartInPeers(1, peers);
        await WithViewsAsync(Poll.UntilAsync(() => new[] { node1, node2, node3 }.All(n => UpNodes(n) == "1,2,3"), "every system sees nodes 1, 2 and 3 up", Deadline), node1, node2, node3);
        node2.Sharding.Region.Tell(new StartReplicaEntity(1, 9, 1));
        await WithViewsAsync(Poll.UntilAsync(() => node1.Host.Registered.ContainsKey(9), "node 1's entity started on node 1", Deadline), node1, node2, node3);
        node2.Host.Opened.Should().Equal(new ReplicaEntityId(7, 2));
        node3.Host.Opened.Should().Equal(new ReplicaEntityId(8, 3));
    }

    [Fact]
    public async Task Nodes_started_together_form_one_cluster_through_the_lowest()
    {
        var ports = LoopbackPorts.Free(3);
        var peers = new Dictionary<ulong, int> { [1] = ports[0], [2] = ports[1], [3] = ports[2] };
        await using var node3 = ReplicaSystem.StartInPeers(3, peers);
        await using var node2 = ReplicaSystem.StartInPeers(2, peers);
        await using var node1 = ReplicaSystem.StartInPeers(1, peers);
        await WithViewsAsync(Poll.UntilAsync(() => new[] { node1, node2, node3 }.All(n => UpNodes(n) == "1,2,3"), "every system sees nodes 1, 2 and 3 up", Deadline), node1, node2, node3);
        // The oldest member is the one that formed the cluster.
        var oldest = Akka.Cluster.Cluster.Get(node2.System).State.Members.Aggregate((a, b) => a.IsOlderThan(b) ? a : b);
        oldest.Address.Should().Be(node1.Address);
    }

    private static string UpNodes(ReplicaSystem node) =>
        string.Join(",", node.Members.Where(m => m.Value == MemberStatus.Up).Select(m => m.Key).Order());

    /// <summary>Awaits <paramref name="wait"/>; a timeout says what each node sees of the cluster.</summary>
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
}
