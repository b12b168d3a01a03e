using LsmRaft.Protocol.Cluster;

namespace LsmRaft.Protocol.Tests;

public sealed class ReplicaIdTests
{
    public static TheoryData<ulong, int> Ids => new()
    {
        { 1, 0 },
        { 7, 1 },
        { NodeIds.MaxNumericId, 5 },
        { NodeIds.FromName("n1"), 2 },
        { (NodeIds.NameIdBase << 1) - 1, ReplicaId.MaxIncarnation },
    };

    [Theory]
    [MemberData(nameof(Ids))]
    public void An_id_round_trips_through_its_raft_value(ulong node, int incarnation)
    {
        var id = new ReplicaId(node, incarnation);

        ReplicaId.FromValue(id.Value).Should().Be(id);
        ReplicaId.NodeOf(id.Value).Should().Be(node);
        ReplicaId.IncarnationOf(id.Value).Should().Be(incarnation);
    }

    [Fact]
    public void Incarnation_zero_is_the_node_id_itself_so_earlier_data_stays_valid()
    {
        ReplicaId.Bootstrap(3).Value.Should().Be(3);
        ReplicaId.Bootstrap(NodeIds.FromName("node-a")).Value.Should().Be(NodeIds.FromName("node-a"));
        ReplicaId.NodeOf(3).Should().Be(3);
        ReplicaId.IncarnationOf(3).Should().Be(0);
    }

    [Fact]
    public void Incarnations_of_one_node_have_distinct_ids_and_never_collide_with_other_nodes()
    {
        var ids = new HashSet<ulong>();
        foreach (ulong node in new ulong[] { 1, 2, NodeIds.MaxNumericId, NodeIds.FromName("n1"), NodeIds.FromName("n2") })
            for (var id = ReplicaId.Bootstrap(node); ; id = id.Next())
            {
                ids.Add(id.Value).Should().BeTrue($"{id} is new");
                if (id.Incarnation == ReplicaId.MaxIncarnation)
                    break;
            }
        ids.Should().HaveCount(5 * (ReplicaId.MaxIncarnation + 1));
    }

    [Fact]
    public void The_node_of_no_leader_is_no_node() => ReplicaId.NodeOf(0).Should().Be(0);

    [Fact]
    public void Bad_input_is_refused_with_the_accepted_range()
    {
        FluentActions.Invoking(() => new ReplicaId(0, 0)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*node id must be from 1 to*");
        FluentActions.Invoking(() => new ReplicaId(NodeIds.NameIdBase << 1, 0)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new ReplicaId(1, -1)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*incarnation must be from 0 to 2047*");
        FluentActions.Invoking(() => new ReplicaId(1, ReplicaId.MaxIncarnation + 1)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => ReplicaId.FromValue(0)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*Raft's 'none'*");
    }

    [Fact]
    public void The_last_incarnation_has_no_next_and_the_error_says_what_to_do()
    {
        FluentActions.Invoking(() => new ReplicaId(4, ReplicaId.MaxIncarnation).Next())
            .Should().Throw<IncarnationsExhaustedException>().WithMessage("*Node 4*place the group's replica on another node*");
    }

    [Fact]
    public void Logs_show_the_node_and_a_non_zero_incarnation()
    {
        new ReplicaId(3, 0).ToString().Should().Be("3");
        new ReplicaId(3, 2).ToString().Should().Be("3#2");
    }

    [Fact]
    public void A_shard_allocates_an_incarnation_above_every_earlier_one_on_the_node()
    {
        var shard = new ShardInfo(1, 0, ulong.MaxValue, 1, [1, 2, 3], [], null);
        shard.ReplicaIdOf(3).Should().Be(ReplicaId.Bootstrap(3));
        FluentActions.Invoking(() => shard.AllocateIncarnation(3)).Should().Throw<InvalidOperationException>().WithMessage("*already holds a replica*");

        // Node 3 leaves the group, then gets a replica again, twice.
        var left = shard with { Replicas = [1, 2] };
        var back = left.AllocateIncarnation(3);
        back.Learners.Should().Equal(3UL);
        back.ReplicaIdOf(3).Should().Be(new ReplicaId(3, 1));
        var again = (back with { Learners = [] }).AllocateIncarnation(3);
        again.ReplicaIdOf(3).Should().Be(new ReplicaId(3, 2));
        again.ReplicaIdOf(1).Should().Be(ReplicaId.Bootstrap(1), "other nodes keep theirs");
    }

    [Fact]
    public void Allocation_is_refused_once_a_node_had_every_incarnation()
    {
        var shard = new ShardInfo(1, 0, ulong.MaxValue, 1, [1, 2], [], null, new Dictionary<ulong, int> { [3] = ReplicaId.MaxIncarnation });
        FluentActions.Invoking(() => shard.AllocateIncarnation(3)).Should().Throw<IncarnationsExhaustedException>();
    }

    [Fact]
    public void Incarnations_survive_the_shard_maps_json()
    {
        var shard = new ShardInfo(1, 0, ulong.MaxValue, 1, [1, 2], [3], null, new Dictionary<ulong, int> { [3] = 4 });
        var read = System.Text.Json.JsonSerializer.Deserialize<ShardInfo>(System.Text.Json.JsonSerializer.Serialize(shard))!;
        read.ReplicaIdOf(3).Should().Be(new ReplicaId(3, 4));
        var old = System.Text.Json.JsonSerializer.Deserialize<ShardInfo>("""{"Id":1,"RangeStart":0,"RangeEnd":5,"Epoch":1,"Replicas":[1,2],"Learners":[],"Leader":null}""")!;
        old.ReplicaIdOf(2).Should().Be(ReplicaId.Bootstrap(2), "a map written before incarnations means incarnation 0");
    }
}
