using LsmRaft.Raft;
using static LsmRaft.Raft.Tests.RaftTestKit;

namespace LsmRaft.Raft.Tests;

/// <summary>Quiescence (docs/raft.md): idle groups stop their timers and send nothing; anything new wakes them.</summary>
public sealed class QuiesceTests
{
    private const string Options = "prevote=true checkquorum=true quiesce=3";

    /// <summary>A 3-voter group with node 1 leading, stabilized, then ticked until every node is quiesced.</summary>
    private static InteractionEnv QuiescedCluster(string options = Options)
    {
        var env = new InteractionEnv();
        env.Handle($"add-nodes 3 voters=(1,2,3) {options}");

        // With lease reads a freshly started node refuses votes for an election timeout.
        TickAll(env);
        env.Handle("tick-election 2");
        env.Handle("tick-election 3");
        env.Handle("campaign 1");
        env.Handle("stabilize");
        env.Handle("propose 1 x");
        env.Handle("stabilize");
        for (var i = 0; i < 5; i++)
        {
            TickAll(env);
        }

        return env;
    }

    private static void TickAll(InteractionEnv env)
    {
        foreach (var id in env.Nodes.Keys)
        {
            env.Handle($"tick {id} 1");
        }

        env.Handle("stabilize");
    }

    [Fact]
    public void An_idle_leader_quiesces_after_the_configured_ticks_and_followers_stop_their_timers()
    {
        var env = ClusterWithLeader(3, Options);
        env.Handle("propose 1 x");
        env.Handle("stabilize");
        TickAll(env);
        TickAll(env);
        env.Nodes[1].Raft.Quiesced.Should().BeFalse("two idle ticks are fewer than the three configured");
        TickAll(env);
        env.Nodes.Values.Should().OnlyContain(n => n.Raft.Quiesced, "the third idle tick sends the quiesce heartbeat and followers accept it");

        var sent = env.MessagesSent;
        for (var i = 0; i < 100; i++)
        {
            TickAll(env);
        }

        env.MessagesSent.Should().Be(sent, "a quiesced group sends nothing, however long it stays idle");
        env.Nodes[1].Raft.Role.Should().Be(RaftRole.Leader);
        env.Nodes[2].Raft.Role.Should().Be(RaftRole.Follower, "a quiesced follower's election timer does not run");
        env.Nodes[3].Raft.Lead.Should().Be(1);
    }

    [Fact]
    public void A_leader_does_not_quiesce_while_a_follower_lacks_entries()
    {
        var env = ClusterWithLeader(3, Options);
        env.Handle("isolate 3");
        env.Handle("propose 1 x");
        env.Handle("stabilize");
        for (var i = 0; i < 10; i++)
        {
            TickAll(env);
        }

        env.Nodes[1].Raft.Quiesced.Should().BeFalse("follower 3 has not acknowledged the last entry");
    }

    [Fact]
    public void A_proposal_wakes_the_group_and_it_quiesces_again_once_idle()
    {
        var env = QuiescedCluster();
        env.Handle("propose 1 y").Should().StartWith("ok");
        env.Nodes[1].Raft.Quiesced.Should().BeFalse();
        env.Handle("stabilize");
        env.Nodes.Values.Should().OnlyContain(n => !n.Raft.Quiesced, "the append woke the followers");
        env.Nodes.Values.Should().OnlyContain(n => n.Raft.Core.Log.Committed == 3);

        for (var i = 0; i < 3; i++)
        {
            TickAll(env);
        }

        env.Nodes.Values.Should().OnlyContain(n => n.Raft.Quiesced);
    }

    [Fact]
    public void A_follower_whose_leader_is_not_live_wakes_and_a_new_leader_is_elected()
    {
        var env = QuiescedCluster();
        env.Handle("isolate 1");
        env.DeadNodes.Add(1);
        for (var i = 0; i < 40 && !env.Nodes.Values.Any(n => n.Id != 1 && n.Raft.Role == RaftRole.Leader); i++)
        {
            env.Handle("tick 2 1");
            env.Handle("tick 3 1");
            env.Handle("stabilize 2 3");
        }

        env.Nodes.Values.Should().Contain(n => n.Id != 1 && n.Raft.Role == RaftRole.Leader && n.Raft.Term > 1);
    }

    [Fact]
    public void A_quiesced_follower_whose_leader_is_live_keeps_its_timer_stopped()
    {
        var env = QuiescedCluster();
        env.Handle("isolate 1");
        for (var i = 0; i < 100; i++)
        {
            env.Handle("tick 2 1");
            env.Handle("tick 3 1");
            env.Handle("stabilize 2 3");
        }

        env.Nodes[2].Raft.Role.Should().Be(RaftRole.Follower, "the oracle reports the leader live, so nothing wakes the follower");
        env.Nodes[2].Raft.Quiesced.Should().BeTrue();
    }

    [Fact]
    public void A_quiesced_leader_is_not_deposed_by_check_quorum_and_resumes_it_once_awake()
    {
        var env = QuiescedCluster();
        env.Handle("isolate 2");
        env.Handle("isolate 3");
        for (var i = 0; i < 50; i++)
        {
            env.Handle("tick 1 1");
        }

        env.Nodes[1].Raft.Role.Should().Be(RaftRole.Leader, "no quorum check runs while quiesced: silence is by design");

        env.Handle("propose 1 y").Should().StartWith("ok");
        for (var i = 0; i < 10 && env.Nodes[1].Raft.Role == RaftRole.Leader; i++)
        {
            env.Handle("tick 1 1");
            env.Handle("stabilize 1");
        }

        env.Nodes[1].Raft.Role.Should().Be(RaftRole.Follower, "awake again, the leader checks its quorum within one election timeout");
    }

    [Fact]
    public void A_quiesced_leader_holds_no_lease_and_a_read_wakes_the_group()
    {
        var env = QuiescedCluster(Options + " read-only=lease");
        env.Nodes[1].Raft.Quiesced.Should().BeTrue();
        env.Nodes[1].Raft.HasLease.Should().BeFalse();

        env.Handle("read-index 1 r");
        env.Nodes[1].Raft.Quiesced.Should().BeFalse();
        env.Handle("process-ready 1");
        env.Nodes[1].ReadStates.Should().BeEmpty("without a lease the read waits for a quorum to acknowledge a heartbeat");
        env.Handle("stabilize");
        env.Nodes[1].ReadStates.Should().ContainSingle().Which.Index.Should().Be(2);
    }

    [Fact]
    public void Late_acknowledgements_do_not_wake_a_quiesced_leader()
    {
        var env = ClusterWithLeader(3, Options);
        env.Handle("propose 1 x");
        env.Handle("stabilize");
        TickAll(env);
        TickAll(env);
        env.Handle("tick 1 1");
        env.Handle("process-ready 1");
        env.Nodes[1].Raft.Quiesced.Should().BeTrue();

        // Acknowledgements of the heartbeats sent before quiescing arrive after it.
        env.Nodes[1].Raft.Step(Msg(MessageType.HeartbeatResp, 2, 1, term: env.Nodes[1].Raft.Term));
        env.Nodes[1].Raft.Step(Msg(MessageType.AppResp, 3, 1, term: env.Nodes[1].Raft.Term, index: 2));
        env.Nodes[1].Raft.Quiesced.Should().BeTrue();
    }

    [Fact]
    public void A_follower_behind_the_leaders_commit_refuses_to_quiesce_and_wakes_the_leader()
    {
        var (follower, storage) = NewNode(2, [1, 2, 3]);
        follower.Step(Msg(MessageType.App, 1, 2, term: 1, logTerm: 0, index: 0, commit: 1, E(1, 1)));
        Drain(follower, storage);

        // A leader of term 2 whose log the follower has only up to an entry of term 1.
        follower.Step(Msg(MessageType.Heartbeat, 3, 2, term: 2, commit: 1) with { Quiesce = true });
        follower.Quiesced.Should().BeFalse("its log does not end with an entry of the leader's term");
        var answer = Drain(follower, storage).Messages.Should().ContainSingle().Subject;
        answer.Type.Should().Be(MessageType.HeartbeatResp);
        answer.Reject.Should().BeTrue();

        var (leader, leaderStorage) = NewNode(1, [1, 2, 3], c => c with { QuiesceAfterTicks = 1 });
        leader.Campaign();
        Drain(leader, leaderStorage);
        leader.Step(Msg(MessageType.VoteResp, 2, 1, term: 1));
        leader.Step(Msg(MessageType.AppResp, 2, 1, term: 1, index: 1));
        leader.Step(Msg(MessageType.AppResp, 3, 1, term: 1, index: 1));
        Drain(leader, leaderStorage);
        leader.Tick();
        leader.Quiesced.Should().BeTrue();
        leader.Step(answer with { From = 2, To = 1, Term = 1 });
        leader.Quiesced.Should().BeFalse("a refusal wakes the leader");
    }

    [Fact]
    public void A_vote_request_wakes_a_quiesced_follower()
    {
        var env = QuiescedCluster();
        env.Nodes[2].Raft.Step(Msg(MessageType.PreVote, 3, 2, term: env.Nodes[2].Raft.Term + 1, logTerm: 1, index: 2));
        env.Nodes[2].Raft.Quiesced.Should().BeFalse();
    }
}
