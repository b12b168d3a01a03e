using LsmRaft.Raft;
using static LsmRaft.Raft.Tests.RaftTestKit;

namespace LsmRaft.Raft.Tests;

/// <summary>Linearizable reads (thesis §6.4): read index confirmed by a quorum, leases, and their limits.</summary>
public sealed class ReadIndexTests
{
    [Fact]
    public void Read_index_is_released_only_after_a_quorum_acknowledges_the_leaders_heartbeat()
    {
        var env = ClusterWithLeader(3);
        env.Handle("propose 1 x");
        env.Handle("stabilize");
        env.Handle("read-index 1 r");
        env.Handle("process-ready 1");
        env.Nodes[1].ReadStates.Should().BeEmpty("no acknowledgement yet");
        env.Handle("stabilize");
        env.Nodes[1].ReadStates.Should().ContainSingle().Which.Index.Should().Be(2);
    }

    [Fact]
    public void Stale_leader_cannot_serve_read_index_after_partition()
    {
        var env = ClusterWithLeader(3);
        env.Handle("isolate 1");
        env.Handle("campaign 2");
        env.Handle("stabilize 2 3");
        env.Handle("propose 2 newer");
        env.Handle("stabilize 2 3");

        env.Nodes[1].Raft.Role.Should().Be(RaftRole.Leader, "the old leader does not know it was deposed");
        env.Handle("read-index 1 stale");
        for (var i = 0; i < 5; i++)
        {
            env.Handle("tick-heartbeat 1");
            env.Handle("stabilize");
        }

        env.Nodes[1].ReadStates.Should().BeEmpty("a read served here would miss the write 'newer'");
    }

    [Fact]
    public void New_leader_defers_read_index_until_it_commits_an_entry_of_its_term()
    {
        var (leader, storage) = NewNode(1, [1, 2, 3]);
        leader.Campaign();
        Drain(leader, storage);
        leader.Step(Msg(MessageType.VoteResp, 2, 1, term: 1));
        Drain(leader, storage);
        leader.ReadIndex("early"u8.ToArray()).IsOk.Should().BeTrue();
        Drain(leader, storage).Messages.Should().NotContain(m => m.Type == MessageType.Heartbeat, "the read waits for the no-op to commit");

        leader.Step(Msg(MessageType.AppResp, 2, 1, term: 1, index: 1));
        var rd = Drain(leader, storage);
        rd.Messages.Should().Contain(m => m.Type == MessageType.Heartbeat && m.Context != null);
        leader.Step(Msg(MessageType.HeartbeatResp, 2, 1, term: 1) with { Context = "early"u8.ToArray() });
        Drain(leader, storage).ReadStates.Should().ContainSingle().Which.Index.Should().Be(1);
    }

    [Fact]
    public void Follower_read_index_is_forwarded_and_answered_by_the_leader()
    {
        var env = ClusterWithLeader(3);
        env.Handle("read-index 3 f");
        env.Handle("stabilize");
        env.Nodes[3].ReadStates.Should().ContainSingle().Which.RequestContext.Should().Equal("f"u8.ToArray());
    }

    [Fact]
    public void Read_index_without_a_known_leader_is_refused_not_dropped()
    {
        var (node, _) = NewNode(1, [1, 2, 3]);
        node.ReadIndex("r"u8.ToArray()).Code.Should().Be(RaftResultCode.NotLeader);
    }

    [Fact]
    public void Lease_read_is_answered_without_messages_while_the_lease_holds_and_falls_back_after()
    {
        var env = new InteractionEnv();
        env.Handle("add-nodes 3 voters=(1,2,3) checkquorum=true read-only=lease");
        for (var round = 0; round < 100 && !env.Nodes.Values.Any(n => n.Raft.Role == RaftRole.Leader); round++)
        {
            foreach (var id in new[] { 1, 2, 3 })
            {
                env.Handle($"tick {id} 1");
            }

            env.Handle("stabilize");
        }
        var leader = env.Nodes.Values.Single(n => n.Raft.Role == RaftRole.Leader);
        env.Handle($"tick-heartbeat {leader.Id}");
        env.Handle("stabilize");
        leader.Raft.HasLease.Should().BeTrue();

        env.Handle($"read-index {leader.Id} fast");
        var rd = Drain(leader.Raft, leader.Storage);
        rd.ReadStates.Should().ContainSingle();
        rd.Messages.Should().BeEmpty();

        env.Handle($"isolate {leader.Id}");
        env.Handle($"tick {leader.Id} 8");
        leader.Raft.HasLease.Should().BeFalse("(8 + 1) * 1.1 > ElectionTicks - 1: the followers may already vote again");
    }

    [Fact]
    public void Lease_based_reads_require_check_quorum()
    {
        var act = () => NewNode(1, [1], c => c with { ReadOnlyOption = ReadOnlyOption.LeaseBased });
        act.Should().Throw<ArgumentException>().WithMessage("*CheckQuorum*");
    }
}
