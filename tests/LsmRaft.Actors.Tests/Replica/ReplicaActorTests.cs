using System.Text;
using LsmRaft.Raft;
using LsmRaft.Actors.Replica;

namespace LsmRaft.Actors.Tests.Replica;

public sealed class ReplicaActorTests
{
    [Fact]
    public async Task Three_replicas_elect_a_leader_and_commit_a_write_readable_linearizably()
    {
        await using var cluster = new ReplicaCluster(3);
        ulong leader = await cluster.WaitForLeaderAsync();
        var outcome = await cluster.PutAsync(leader, "k", "v1");
        outcome.Should().BeOfType<ProposeOutcome.Committed>().Which.Result.Should().BeOfType<ApplyResult.Applied>();
        var read = await cluster.ReadAsync(leader, "k");
        read.Should().BeOfType<ReadOutcome.Value>().Which.Data.Should().Equal(ReplicaCluster.B("v1"));
    }

    [Fact]
    public async Task A_follower_answers_proposals_and_linearizable_reads_with_the_leader_hint()
    {
        await using var cluster = new ReplicaCluster(3);
        ulong leader = await cluster.WaitForLeaderAsync();
        ulong follower = cluster.Replicas.Keys.First(id => id != leader);
        (await cluster.PutAsync(follower, "k", "v")).Should().Be(new ProposeOutcome.NotLeader(leader));
        (await cluster.ReadAsync(follower, "k")).Should().Be(new ReadOutcome.NotLeader(leader));
    }

    [Fact]
    public async Task Compare_and_set_commits_on_the_expected_version_and_conflicts_otherwise()
    {
        await using var cluster = new ReplicaCluster(3);
        ulong leader = await cluster.WaitForLeaderAsync();
        var created = await cluster.AskAsync<ProposeOutcome>(leader, r => new ReplicaMessage.Propose(KvCommand.CompareAndSet(ReplicaCluster.B("c"), 0, ReplicaCluster.B("1")), r));
        ulong version = created.Should().BeOfType<ProposeOutcome.Committed>().Which.Result.Should().BeOfType<ApplyResult.Applied>().Which.Version;
        var stale = await cluster.AskAsync<ProposeOutcome>(leader, r => new ReplicaMessage.Propose(KvCommand.CompareAndSet(ReplicaCluster.B("c"), 0, ReplicaCluster.B("2")), r));
        stale.Should().BeOfType<ProposeOutcome.Committed>().Which.Result.Should().Be(new ApplyResult.Conflict(version));
        var next = await cluster.AskAsync<ProposeOutcome>(leader, r => new ReplicaMessage.Propose(KvCommand.CompareAndSet(ReplicaCluster.B("c"), version, ReplicaCluster.B("2")), r));
        next.Should().BeOfType<ProposeOutcome.Committed>().Which.Result.Should().BeOfType<ApplyResult.Applied>();
    }

    [Fact]
    public async Task Writes_resume_after_the_leader_is_cut_off_and_no_acknowledged_write_is_lost()
    {
        await using var cluster = new ReplicaCluster(3);
        ulong leader = await cluster.WaitForLeaderAsync();
        for (int i = 0; i < 20; i++)
            (await cluster.PutAsync(leader, $"k{i}", $"v{i}")).Should().BeOfType<ProposeOutcome.Committed>();
        cluster.Network.Isolate(leader);
        ulong next = 0;
        await cluster.RunUntilAsync(() =>
        {
            next = cluster.Replicas.Keys.FirstOrDefault(id => id != leader && cluster.StatusOf(id) is { Role: RaftRole.Leader });
            return next != 0;
        }, 1000, "a new leader among the connected replicas");
        (await cluster.PutAsync(next, "after", "failover")).Should().BeOfType<ProposeOutcome.Committed>();
        for (int i = 0; i < 20; i++)
            (await cluster.ReadAsync(next, $"k{i}")).Should().BeOfType<ReadOutcome.Value>().Which.Data.Should().Equal(ReplicaCluster.B($"v{i}"));
        cluster.Network.Heal(leader);
        await cluster.RunUntilAsync(() => cluster.StatusOf(leader) is { Role: RaftRole.Follower }, 1000, "the old leader steps down");
    }

    [Fact]
    public async Task A_lagging_follower_catches_up_through_a_streamed_snapshot()
    {
        await using var cluster = new ReplicaCluster(3, snapshotInterval: 50);
        ulong leader = await cluster.WaitForLeaderAsync();
        ulong lagging = cluster.Replicas.Keys.First(id => id != leader);
        cluster.Network.Isolate(lagging);
        for (int i = 0; i < 200; i++)
            (await cluster.PutAsync(leader, $"k{i:D3}", new string('x', 200) + i)).Should().BeOfType<ProposeOutcome.Committed>();
        // The leader's log is compacted past the follower's position, so only a snapshot can catch it up.
        cluster.Network.Heal(lagging);
        ulong target = cluster.StatusOf(leader)!.Applied;
        await cluster.RunUntilAsync(() => cluster.StatusOf(lagging) is { } s && s.Applied >= target, 3000, "the lagging follower applies everything");
        cluster.Network.SnapshotChunksDelivered.Should().BeGreaterThan(1, "the catch-up must go through a chunked snapshot");
        var stale = await cluster.ReadAsync(lagging, "k199", ReadMode.Stale);
        stale.Should().BeOfType<ReadOutcome.Value>().Which.Data.Should().Equal(Encoding.UTF8.GetBytes(new string('x', 200) + 199));
    }

    [Fact]
    public async Task Leadership_transfers_to_the_named_voter()
    {
        await using var cluster = new ReplicaCluster(3);
        ulong leader = await cluster.WaitForLeaderAsync();
        ulong target = cluster.Replicas.Keys.First(id => id != leader);
        var result = await cluster.AskAsync<RaftResult>(leader, r => new ReplicaMessage.TransferLeadership(target, r));
        result.IsOk.Should().BeTrue();
        await cluster.RunUntilAsync(() => cluster.StatusOf(target) is { Role: RaftRole.Leader }, 500, "the transferee leads");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    public async Task An_idle_group_stops_sending_once_quiesced_and_a_proposal_wakes_it(int quiesceAfterTicks)
    {
        const int IdleTicks = 100;
        await using var cluster = new ReplicaCluster(3, quiesceAfterTicks: quiesceAfterTicks);
        ulong leader = await cluster.WaitForLeaderAsync();
        (await cluster.PutAsync(leader, "k", "v1")).Should().BeOfType<ProposeOutcome.Committed>();

        // Let the group settle (quiesce, when enabled), then count what it sends while idle.
        await RunTicksAsync(cluster, 10);
        long before = cluster.MessagesSent;
        await RunTicksAsync(cluster, IdleTicks);
        long idleMessages = cluster.MessagesSent - before;
        // Reported by the test run: messages per second at the default 100 ms tick (10 ticks per second).
        Console.WriteLine($"quiesceAfterTicks={quiesceAfterTicks}: {idleMessages} messages in {IdleTicks} idle ticks = {idleMessages * 10.0 / IdleTicks:F1} messages/s at 100 ms ticks");
        if (quiesceAfterTicks == 0)
            idleMessages.Should().Be(2 * 2 * IdleTicks, "without quiescence the leader heartbeats both followers every tick and each answers");
        else
            idleMessages.Should().Be(0, "a quiesced group sends nothing");

        (await cluster.PutAsync(leader, "k", "v2")).Should().BeOfType<ProposeOutcome.Committed>("a proposal wakes the group");
        (await cluster.ReadAsync(leader, "k")).Should().BeOfType<ReadOutcome.Value>().Which.Data.Should().Equal(ReplicaCluster.B("v2"));
    }

    [Fact]
    public async Task A_quiesced_group_elects_a_new_leader_when_the_oracle_reports_the_leader_dead()
    {
        await using var cluster = new ReplicaCluster(3);
        ulong leader = await cluster.WaitForLeaderAsync();
        (await cluster.PutAsync(leader, "k", "v")).Should().BeOfType<ProposeOutcome.Committed>();
        await RunTicksAsync(cluster, 10);
        long before = cluster.MessagesSent;
        await RunTicksAsync(cluster, 20);
        cluster.MessagesSent.Should().Be(before, "the group is quiesced");

        cluster.Network.Isolate(leader);
        ulong next = 0;
        await cluster.RunUntilAsync(() =>
        {
            next = cluster.Replicas.Keys.FirstOrDefault(id => id != leader && cluster.StatusOf(id) is { Role: RaftRole.Leader });
            return next != 0;
        }, 200, "a new leader among the connected replicas");
        (await cluster.ReadAsync(next, "k")).Should().BeOfType<ReadOutcome.Value>().Which.Data.Should().Equal(ReplicaCluster.B("v"));
    }

    private static async Task RunTicksAsync(ReplicaCluster cluster, int ticks)
    {
        for (int i = 0; i < ticks; i++)
        {
            cluster.Time.Advance(ReplicaCluster.Tick);
            await cluster.System.WhenIdleAsync();
        }
    }
}
