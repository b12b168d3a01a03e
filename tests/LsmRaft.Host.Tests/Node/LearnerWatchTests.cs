using LsmRaft.Host.Node;
using LsmRaft.Protocol.Cluster;

namespace LsmRaft.Host.Tests.Node;

public sealed class LearnerWatchTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static ShardInfo Shard(ulong id, params ulong[] learners) => new(id, 0, 10, 1, [1, 2, 3], learners, 1);

    [Fact]
    public void A_learner_on_an_up_node_is_left_behind_only_once_it_has_been_listed_longer_than_the_bound()
    {
        var watch = new LearnerWatch(TimeSpan.FromMinutes(6));
        var shards = new[] { Shard(1, 4), Shard(2) };
        watch.LeftBehind(shards, _ => false, T0).Should().BeEmpty("a move may still be catching it up");
        watch.LeftBehind(shards, _ => false, T0 + TimeSpan.FromMinutes(6)).Should().BeEmpty("the bound is not exceeded yet");
        watch.LeftBehind(shards, _ => false, T0 + TimeSpan.FromMinutes(6.5)).Should().Equal((1UL, 4UL));
    }

    [Fact]
    public void A_learner_on_a_down_node_is_left_behind_at_once()
    {
        var watch = new LearnerWatch(TimeSpan.FromMinutes(6));
        watch.LeftBehind([Shard(2, 5, 4), Shard(1, 4)], n => n == 4, T0).Should().Equal((1UL, 4UL), (2UL, 4UL));
    }

    [Fact]
    public void A_learner_no_longer_listed_is_forgotten_and_counted_from_zero_when_listed_again()
    {
        var watch = new LearnerWatch(TimeSpan.FromMinutes(6));
        watch.LeftBehind([Shard(1, 4)], _ => false, T0);
        watch.LeftBehind([Shard(1)], _ => false, T0 + TimeSpan.FromMinutes(1)).Should().BeEmpty();
        watch.LeftBehind([Shard(1, 4)], _ => false, T0 + TimeSpan.FromMinutes(5)).Should().BeEmpty("a new move listed it again");
        watch.LeftBehind([Shard(1, 4)], _ => false, T0 + TimeSpan.FromMinutes(10)).Should().BeEmpty("listed again 5 minutes ago only");
        watch.LeftBehind([Shard(1, 4)], _ => false, T0 + TimeSpan.FromMinutes(11.5)).Should().Equal((1UL, 4UL));

        watch.Clear();
        watch.LeftBehind([Shard(1, 4)], _ => false, T0 + TimeSpan.FromMinutes(12)).Should().BeEmpty("a new meta leader's watch starts from zero");
    }
}
