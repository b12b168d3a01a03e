using LsmRaft.Raft;
using static LsmRaft.Raft.Tests.RaftTestKit;

namespace LsmRaft.Raft.Tests;

/// <summary>Leader election rules (Raft §5.1, §5.2, §5.4.1; thesis §9.6 pre-vote; check-quorum).</summary>
public sealed class ElectionTests
{
    [Fact]
    public void Follower_starts_election_after_its_election_timeout_without_hearing_from_a_leader()
    {
        var (node, _) = NewNode(1, [1, 2, 3]);
        for (var i = 0; i < 9; i++)
        {
            node.Tick();
        }

        node.Role.Should().Be(RaftRole.Follower, "the randomized timeout is at least ElectionTicks");
        for (var i = 0; i < 11; i++)
        {
            node.Tick();
        }

        node.Role.Should().Be(RaftRole.Candidate, "the randomized timeout is below 2 * ElectionTicks");
        node.Term.Should().Be(1);
        node.Status().HardState.Vote.Should().Be(1, "a candidate votes for itself");
    }

    [Fact]
    public void Randomized_election_timeouts_lie_in_election_ticks_to_twice_election_ticks_and_differ_between_seeds()
    {
        var observed = new HashSet<int>();
        for (var seed = 1; seed <= 40; seed++)
        {
            var (node, _) = NewNode(1, [1, 2, 3], c => c with { Random = new Random(seed) });
            var ticks = 0;
            while (node.Role == RaftRole.Follower)
            {
                node.Tick();
                ticks++;
            }

            ticks.Should().BeInRange(10, 19, $"seed {seed}");
            observed.Add(ticks);
        }

        observed.Count.Should().BeGreaterThan(3, "split votes are avoided by spreading timeouts");
    }

    [Fact]
    public void Candidate_requests_votes_from_every_other_voter_with_its_last_log_position()
    {
        var (node, storage) = NewNode(1, [1, 2, 3]);
        node.Campaign();
        var rd = Drain(node, storage);
        rd.HardState.Should().Be(new HardState(1, 1, 0), "term and self-vote must be persisted before the requests leave");
        rd.MustSync.Should().BeTrue();
        rd.Messages.Select(m => (m.Type, m.To, m.Term)).Should().Equal((MessageType.Vote, 2UL, 1UL), (MessageType.Vote, 3UL, 1UL));
    }

    [Fact]
    public void Candidate_votes_at_most_once_per_term()
    {
        var (node, storage) = NewNode(1, [1, 2, 3]);
        node.Step(Msg(MessageType.Vote, 2, 1, term: 1));
        node.Step(Msg(MessageType.Vote, 3, 1, term: 1));
        var responses = DrainMessages(node, storage);
        responses.Should().HaveCount(2);
        responses[0].Should().Match<Message>(m => m.To == 2 && !m.Reject);
        responses[1].Should().Match<Message>(m => m.To == 3 && m.Reject, "the vote of term 1 went to node 2");
        storage.HardState.Vote.Should().Be(2);

        // Repeating the same vote is allowed (the response may have been lost).
        node.Step(Msg(MessageType.Vote, 2, 1, term: 1));
        DrainMessages(node, storage).Single().Reject.Should().BeFalse();
    }

    [Fact]
    public void Voter_rejects_candidate_whose_log_is_less_up_to_date()
    {
        var storage = StorageWith([1, 2, 3], new HardState(2, 0, 0), E(1, 1), E(2, 2));
        var (node, _) = NewNode(1, [1, 2, 3], storage: storage);

        node.Step(Msg(MessageType.Vote, 2, 1, term: 3, logTerm: 1, index: 5));
        DrainMessages(node, storage).Single().Reject.Should().BeTrue("a higher last term beats a longer log (§5.4.1)");

        node.Step(Msg(MessageType.Vote, 3, 1, term: 4, logTerm: 2, index: 2));
        DrainMessages(node, storage).Single().Reject.Should().BeFalse("same last term and index is up to date");
    }

    [Fact]
    public void Candidate_becomes_leader_on_votes_from_a_majority_and_appends_an_empty_entry()
    {
        var (node, storage) = NewNode(1, [1, 2, 3, 4, 5]);
        node.Campaign();
        Drain(node, storage);
        node.Step(Msg(MessageType.VoteResp, 2, 1, term: 1));
        node.Role.Should().Be(RaftRole.Candidate, "2 of 5 votes is not a majority");
        node.Step(Msg(MessageType.VoteResp, 3, 1, term: 1));
        node.Role.Should().Be(RaftRole.Leader);
        var rd = Drain(node, storage);
        rd.Entries.Should().ContainSingle().Which.Should().Match<Entry>(e => e.Term == 1 && e.Data.Length == 0);
    }

    [Fact]
    public void Candidate_loses_when_a_majority_rejects_and_returns_to_follower()
    {
        var (node, storage) = NewNode(1, [1, 2, 3]);
        node.Campaign();
        Drain(node, storage);
        node.Step(Msg(MessageType.VoteResp, 2, 1, term: 1) with { Reject = true });
        node.Step(Msg(MessageType.VoteResp, 3, 1, term: 1) with { Reject = true });
        node.Role.Should().Be(RaftRole.Follower);
        node.Term.Should().Be(1);
    }

    [Fact]
    public void Candidate_steps_down_when_a_leader_of_its_term_appends()
    {
        var (node, storage) = NewNode(1, [1, 2, 3]);
        node.Campaign();
        Drain(node, storage);
        node.Step(Msg(MessageType.App, 2, 1, term: 1));
        node.Role.Should().Be(RaftRole.Follower);
        node.Lead.Should().Be(2);
    }

    [Fact]
    public void Node_seeing_a_higher_term_adopts_it_and_becomes_follower()
    {
        var env = ClusterWithLeader(3);
        var leader = env.Nodes[1].Raft;
        leader.Step(Msg(MessageType.App, 2, 1, term: 5, logTerm: 1, index: 1));
        leader.Role.Should().Be(RaftRole.Follower);
        leader.Term.Should().Be(5);
        leader.Lead.Should().Be(2);
    }

    [Fact]
    public void Node_ignores_requests_from_stale_terms()
    {
        var (node, storage) = NewNode(1, [1, 2, 3]);
        node.Step(Msg(MessageType.Heartbeat, 2, 1, term: 3));
        Drain(node, storage);
        node.Step(Msg(MessageType.App, 3, 1, term: 2, entries: E(2, 1, "stale")));
        node.Step(Msg(MessageType.Vote, 3, 1, term: 2));
        DrainMessages(node, storage).Should().BeEmpty();
        storage.LastIndex().Should().Be(0);
        node.Lead.Should().Be(2);
    }

    [Fact]
    public void Leader_broadcasts_heartbeats_every_heartbeat_interval()
    {
        var env = ClusterWithLeader(3, "heartbeat=2");
        var n1 = env.Nodes[1];
        n1.Raft.Tick();
        DrainMessages(n1.Raft, n1.Storage).Should().BeEmpty();
        n1.Raft.Tick();
        DrainMessages(n1.Raft, n1.Storage).Select(m => (m.Type, m.To)).Should().Equal((MessageType.Heartbeat, 2UL), (MessageType.Heartbeat, 3UL));
    }

    [Fact]
    public void PreVote_keeps_the_term_of_a_partitioned_node_unchanged()
    {
        var env = ClusterWithLeader(3, "prevote=true");
        env.Handle("isolate 3");
        for (var round = 0; round < 5; round++)
        {
            env.Handle("tick 3 20");
            env.Handle("stabilize");
        }

        env.Nodes[3].Raft.Term.Should().Be(1);
        env.Handle("recover");
        env.Handle("tick-heartbeat 1");
        env.Handle("stabilize");
        env.Nodes[1].Raft.Role.Should().Be(RaftRole.Leader, "the rejoining node did not disrupt the leader");
        env.Nodes[3].Raft.Lead.Should().Be(1);
    }

    [Fact]
    public void CheckQuorum_leader_steps_down_when_it_has_not_heard_from_a_quorum_in_an_election_timeout()
    {
        var env = ClusterWithLeader(3, "checkquorum=true");
        env.Handle("isolate 1");
        env.Handle("tick-election 1");
        env.Nodes[1].Raft.Role.Should().Be(RaftRole.Leader, "followers were active during the first timeout");
        env.Handle("tick-election 1");
        env.Nodes[1].Raft.Role.Should().Be(RaftRole.Follower);
    }

    [Fact]
    public void Follower_that_recently_heard_from_the_leader_ignores_vote_requests_with_check_quorum()
    {
        var env = ClusterWithLeader(3, "checkquorum=true");
        var follower = env.Nodes[2];
        follower.Raft.Step(Msg(MessageType.Vote, 3, 2, term: 2, logTerm: 1, index: 1));
        follower.Raft.Term.Should().Be(1, "the request was ignored without adopting its term");
        DrainMessages(follower.Raft, follower.Storage).Should().BeEmpty();

        // A transfer-forced campaign is honored regardless of the lease.
        follower.Raft.Step(Msg(MessageType.Vote, 3, 2, term: 2, logTerm: 1, index: 1) with { Context = LsmRaft.Raft.Raft.CampaignTransferContext });
        follower.Raft.Term.Should().Be(2);
        DrainMessages(follower.Raft, follower.Storage).Single().Reject.Should().BeFalse();
    }
}
