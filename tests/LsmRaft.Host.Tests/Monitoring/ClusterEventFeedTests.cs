using LsmRaft.Host.Monitoring;
using LsmRaft.Protocol.Cluster;
using LsmRaft.Protocol.Monitoring;

namespace LsmRaft.Host.Tests.Monitoring;

public sealed class ClusterEventFeedTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 4, 12, 0, 0, TimeSpan.Zero);

    private static NodeInfo Node(ulong id, NodeState state) => new(id, $"127.0.0.1:{9000 + id}", $"http://127.0.0.1:{8000 + id}", state, T0);

    private static ShardInfo Shard(ulong id, ulong start, ulong end, ulong? leader, ulong epoch = 1, params ulong[] replicas) =>
        new(id, start, end, epoch, replicas.Length == 0 ? [1, 2, 3] : replicas, [], leader);

    private static ClusterView View(IReadOnlyList<NodeInfo> nodes, params ShardInfo[] shards) => new("c", 1, nodes, shards);

    private static readonly NodeInfo[] ThreeUp = [Node(1, NodeState.Up), Node(2, NodeState.Up), Node(3, NodeState.Up)];

    [Fact]
    public void The_first_view_publishes_nothing_and_later_views_publish_what_changed()
    {
        var feed = new ClusterEventFeed(1);
        feed.Observe(View(ThreeUp, Shard(1, 0, ulong.MaxValue, 1)), T0).Should().BeEmpty();
        feed.Observe(View(ThreeUp, Shard(1, 0, ulong.MaxValue, 1)), T0.AddSeconds(1)).Should().BeEmpty("nothing changed");

        var events = feed.Observe(View([Node(1, NodeState.Up), Node(2, NodeState.Up), Node(3, NodeState.Down), Node(4, NodeState.Up)],
            Shard(1, 0, ulong.MaxValue, 2)), T0.AddSeconds(2));

        events.Select(e => (e.Kind, e.NodeId, e.ShardId, e.Before, e.After)).Should().Equal(
            (ClusterEventKinds.NodeState, 3UL, (ulong?)null, "up", "down"),
            (ClusterEventKinds.NodeJoined, 4UL, null, null, "up"),
            (ClusterEventKinds.LeaderChanged, 2UL, 1UL, "1", "2"));
        events.Select(e => e.Sequence).Should().Equal(1, 2, 3);
        events.Should().OnlyContain(e => e.Time == T0.AddSeconds(2));
        events[0].Text.Should().Be("node 3: up -> down");
        events[2].Text.Should().Be("shard 1: leader 1 -> 2 (epoch 1)");
    }

    [Fact]
    public void A_split_publishes_the_changed_range_and_the_new_shard_with_its_leader()
    {
        var feed = new ClusterEventFeed(1);
        feed.Observe(View(ThreeUp, Shard(1, 0, ulong.MaxValue, 1)), T0);

        var events = feed.Observe(View(ThreeUp, Shard(1, 0, ulong.MaxValue / 2, 1, 2), Shard(2, ulong.MaxValue / 2 + 1, ulong.MaxValue, 1, 2)), T0);

        events.Select(e => (e.Kind, e.ShardId)).Should().Equal(
            (ClusterEventKinds.ShardChanged, (ulong?)1UL), (ClusterEventKinds.ShardAdded, 2UL), (ClusterEventKinds.LeaderChanged, 2UL));
        events[0].Before.Should().Contain("epoch 1").And.Contain("range 0000000000000000..ffffffffffffffff");
        events[0].After.Should().Contain("epoch 2").And.Contain("range 0000000000000000..7fffffffffffffff");
    }

    [Fact]
    public void A_move_and_a_node_leaving_are_published()
    {
        var feed = new ClusterEventFeed(1);
        feed.Observe(View(ThreeUp, Shard(1, 0, ulong.MaxValue, 1, 1, 1, 2, 3)), T0);

        var events = feed.Observe(View([Node(1, NodeState.Up), Node(2, NodeState.Up)], Shard(1, 0, ulong.MaxValue, 1, 2, 1, 2, 4)), T0);

        events.Select(e => e.Kind).Should().Equal(ClusterEventKinds.NodeLeft, ClusterEventKinds.ShardChanged);
        events[0].Text.Should().Be("node 3 left the cluster");
        events[1].After.Should().Contain("replicas 1,2,4");
    }

    [Fact]
    public async Task A_subscriber_gets_a_snapshot_then_the_kept_events_after_its_last_id_then_new_ones()
    {
        var feed = new ClusterEventFeed(7);
        feed.Observe(View(ThreeUp, Shard(1, 0, ulong.MaxValue, 1)), T0);
        feed.Observe(View(ThreeUp, Shard(1, 0, ulong.MaxValue, 2)), T0); // event 1
        feed.Observe(View(ThreeUp, Shard(1, 0, ulong.MaxValue, 3)), T0); // event 2

        using var subscription = feed.Subscribe(afterSequence: 1, T0);
        feed.Observe(View(ThreeUp, Shard(1, 0, ulong.MaxValue, 1)), T0); // event 3

        var received = new List<ClusterEvent>();
        while (subscription.Reader.TryRead(out var e))
            received.Add(e);
        received.Select(e => (e.Kind, e.Sequence)).Should().Equal(
            (ClusterEventKinds.Snapshot, 2L), (ClusterEventKinds.LeaderChanged, 2L), (ClusterEventKinds.LeaderChanged, 3L));
        received[0].Text.Should().Be("node 7: 3 node(s), 3 up; 1 shard(s), 1 with a leader; shard map version 1");
        await Task.CompletedTask;
    }

    [Fact]
    public async Task A_subscriber_that_falls_behind_is_disconnected_instead_of_buffering_without_bound()
    {
        var feed = new ClusterEventFeed(1);
        feed.Observe(View(ThreeUp, Shard(1, 0, ulong.MaxValue, 1)), T0);
        using var slow = feed.Subscribe(null, T0);
        // Alternate the leader: one event per view, more than the subscriber's buffer holds (nobody reads).
        int views = ClusterEventFeed.SubscriberCapacity + ClusterEventFeed.RecentCapacity + 10;
        for (int i = 0; i < views; i++)
            feed.Observe(View(ThreeUp, Shard(1, 0, ulong.MaxValue, (ulong)(i % 2 + 2))), T0);

        int read = 0;
        while (slow.Reader.TryRead(out _))
            read++;
        read.Should().BeLessThan(views);
        var completion = async () => await slow.Reader.Completion;
        (await completion.Should().ThrowAsync<InvalidOperationException>()).WithMessage("*reconnect with Last-Event-ID*");
        feed.Recent.Should().HaveCount(ClusterEventFeed.RecentCapacity, "the feed keeps only the latest events");
        feed.Recent[^1].Sequence.Should().Be(views);
    }
}
