using System.Collections.Immutable;
using Akka.Actor;
using LsmRaft.Host.Membership;
using LsmRaft.Host.Sharding;

namespace LsmRaft.Host.Tests.Sharding;

/// <summary>The pinned placement rule: a node's replica shard goes to that node's region or nowhere, and never moves.</summary>
public sealed class PinnedReplicaAllocationTests
{
    private static readonly Address Node1 = new("akka.tcp", "lsmraft-test", "127.0.0.1", 2551);
    private static readonly Address Node2 = new("akka.tcp", "lsmraft-test", "127.0.0.1", 2552);
    private static readonly Address Node3 = new("akka.tcp", "lsmraft-test", "127.0.0.1", 2553);

    private static RegionMember Member(Address address, ulong node, bool live = true) =>
        new(address, [ClusterMembership.ReplicaRole, ClusterMembership.NodeRole(node)], live);

    [Fact]
    public void A_node_shard_is_allocated_to_the_region_on_that_node_whoever_asks()
    {
        var members = new[] { Member(Node1, 1), Member(Node2, 2), Member(Node3, 3) };
        var regions = new[] { Node1, Node2, Node3 };

        ReplicaHome.Choose("2", members, regions).Should().Be(new ReplicaHomeDecision(1, null));
        ReplicaHome.Choose("3", members, regions).Should().Be(new ReplicaHomeDecision(2, null));
        ReplicaHome.Choose("1", members, [Node3, Node1]).Should().Be(new ReplicaHomeDecision(1, null));
    }

    [Fact]
    public void A_shard_whose_node_is_absent_down_or_without_a_region_is_refused_not_placed_elsewhere()
    {
        var regions = new[] { Node1, Node2 };

        ReplicaHome.Choose("3", [Member(Node1, 1), Member(Node2, 2)], regions).Refusal.Should().Contain("node 3 is not a member");
        ReplicaHome.Choose("3", [Member(Node1, 1), Member(Node2, 2), Member(Node3, 3, live: false)], [.. regions, Node3])
            .Refusal.Should().Contain("not joining or up and reachable");
        ReplicaHome.Choose("3", [Member(Node1, 1), Member(Node2, 2), Member(Node3, 3)], regions).Refusal.Should().Contain("has no replica region registered");
        ReplicaHome.Choose("3", [], []).Region.Should().Be(-1);
    }

    [Fact]
    public void Two_live_members_claiming_one_node_and_shard_ids_that_are_not_nodes_are_refused()
    {
        var regions = new[] { Node1, Node2, Node3 };

        ReplicaHome.Choose("2", [Member(Node1, 1), Member(Node2, 2), Member(Node3, 2)], regions).Refusal.Should().Contain("2 live members claim node 2");
        ReplicaHome.Choose("7-2", [Member(Node1, 1)], regions).Refusal.Should().Contain("is not a node id");
        ReplicaHome.Choose("0", [Member(Node1, 1)], regions).Refusal.Should().Contain("is not a node id");
    }

    [Fact]
    public async Task The_strategy_never_rebalances_and_refuses_before_it_is_started()
    {
        var strategy = new PinnedReplicaAllocation();
        var allocations = ImmutableDictionary<IActorRef, IImmutableList<string>>.Empty
            .Add(ActorRefs.Nobody, ImmutableList.Create("1", "2", "3"));

        (await strategy.Rebalance(allocations, ImmutableHashSet<string>.Empty)).Should().BeEmpty();
        var refused = async () => await strategy.AllocateShard(ActorRefs.Nobody, "1", allocations);
        (await refused.Should().ThrowAsync<ReplicaAllocationRefusedException>()).Which.Message.Should().Contain("has not been started");
        strategy.Refusals.Should().Be(1);
    }

    [Fact]
    public void Entity_ids_name_group_and_replica_and_parse_back()
    {
        new ReplicaEntityId(12, 3).ToString().Should().Be("12-3");
        ReplicaEntityId.TryParse("12-3", out var id).Should().BeTrue();
        id.Should().Be(new ReplicaEntityId(12, 3));
        ReplicaEntityId.TryParse("12", out _).Should().BeFalse();
        ReplicaEntityId.TryParse("12-0", out _).Should().BeFalse();
        ReplicaEntityId.TryParse("-3", out _).Should().BeFalse();
        ReplicaEntityId.TryParse("a-3", out _).Should().BeFalse();
        new StartReplicaEntity(4, 12, 3).ShardId.Should().Be("4");
    }
}
