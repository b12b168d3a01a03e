using LsmRaft.Host.Membership.Bootstrap;
using LsmRaft.Protocol.Bootstrap;

namespace LsmRaft.Host.Tests.Membership;

/// <summary>
/// The rule by which a node finds or forms the Akka cluster (<see cref="BootstrapRule"/>), as a table: any majority of
/// PEERS forms it through its lowest candidate, after stable rounds; a member's cluster is joined; --join never forms.
/// </summary>
public sealed class BootstrapRuleTests
{
    private static readonly HashSet<ulong> Three = [1, 2, 3];
    private static readonly HashSet<ulong> Five = [1, 2, 3, 4, 5];

    private static BootstrapAnswer Idle(ulong node, bool evaluated = true, params ulong[] candidates)
    {
        var answer = new BootstrapAnswer { Node = node, Evaluated = evaluated };
        answer.Candidates.AddRange(candidates);
        return answer;
    }

    private static BootstrapAnswer MemberOf(ulong node, params string[] members)
    {
        var answer = new BootstrapAnswer { Node = node, Member = true, Evaluated = true };
        answer.Members.AddRange(members);
        return answer;
    }

    private static BootstrapStep Decide(ulong self, IReadOnlySet<ulong> peers, int roundsAsLowest, params BootstrapAnswer[] answers) =>
        BootstrapRule.Decide(new BootstrapView(self, peers, MayForm: true, Alone: false, IsMember: false, answers, roundsAsLowest, StableRounds: 3));

    [Fact]
    public void A_member_stops_probing()
    {
        BootstrapRule.Decide(new BootstrapView(2, Three, true, false, IsMember: true, [MemberOf(3, "a")], 0, 3)).Should().BeOfType<BootstrapStep.Member>();
    }

    [Fact]
    public void Nodes_2_and_3_without_node_1_form_the_cluster_through_node_2_after_three_stable_rounds()
    {
        Decide(2, Three, 0, Idle(3, candidates: [3])).Should().Be(new BootstrapStep.Wait(true, true, "lowest of 2 of 3 PEERS answering (nodes 2, 3) for 1 of 3 rounds"));
        Decide(2, Three, 1, Idle(3, candidates: [3])).Should().BeOfType<BootstrapStep.Wait>().Which.Lowest.Should().BeTrue();
        Decide(2, Three, 2, Idle(3, candidates: [3])).Should().Be(new BootstrapStep.Form(2, 2));

        var node3 = Decide(3, Three, 5, Idle(2, candidates: [2])).Should().BeOfType<BootstrapStep.Wait>().Subject;
        node3.Should().Be(new BootstrapStep.Wait(true, false, "2 of 3 PEERS answer; waiting for node 2 (a lower candidate) to form the cluster"));
    }

    [Fact]
    public void A_minority_waits_and_says_for_what()
    {
        var alone = Decide(2, Three, 0).Should().BeOfType<BootstrapStep.Wait>().Subject;
        alone.SeesMajority.Should().BeFalse();
        alone.Lowest.Should().BeFalse();
        alone.Why.Should().Be("waiting for a majority of PEERS: seen 1 of 3 (nodes 2), 2 needed");

        Decide(1, Five, 9, Idle(4)).Should().BeOfType<BootstrapStep.Wait>().Which.Why.Should().Contain("seen 2 of 5");
        Decide(1, new HashSet<ulong> { 1, 2 }, 9).Should().BeOfType<BootstrapStep.Wait>().Which.SeesMajority.Should().BeFalse("2 nodes need both");
        Decide(1, new HashSet<ulong> { 1, 2 }, 2, Idle(2)).Should().BeOfType<BootstrapStep.Form>();
    }

    [Fact]
    public void A_node_that_hears_from_a_member_joins_that_cluster_not_its_own()
    {
        // Node 1 restarted while nodes 2 and 3 run the cluster: it is the lowest id, but it asks first and sees members.
        Decide(1, Three, 2, MemberOf(3, "akka://c@h:3", "akka://c@h:2"), MemberOf(2, "akka://c@h:2", "akka://c@h:3"))
            .Should().BeEquivalentTo(new BootstrapStep.Join(2, ["akka://c@h:2", "akka://c@h:3"]));
        // A member's word beats a majority of idle peers; a member that names no member is no seed.
        Decide(1, Five, 2, Idle(2), Idle(3), MemberOf(5, "akka://c@h:5")).Should().BeOfType<BootstrapStep.Join>().Which.Through.Should().Be(5UL);
        Decide(2, Three, 0, MemberOf(3)).Should().BeOfType<BootstrapStep.Wait>();
    }

    [Fact]
    public void A_node_started_with_join_never_forms_a_cluster_only_joins_one()
    {
        var joiner = new BootstrapView(7, new HashSet<ulong>(), MayForm: false, Alone: false, IsMember: false, [Idle(1), Idle(2), Idle(3)], 50, 3);
        BootstrapRule.Decide(joiner).Should().BeOfType<BootstrapStep.Wait>().Which.Why.Should().Contain("--join");
        BootstrapRule.Decide(joiner with { Answers = [] }).Should().BeOfType<BootstrapStep.Wait>();
        BootstrapRule.Decide(joiner with { Alone = true, Answers = [] }).Should().BeOfType<BootstrapStep.Wait>();
        BootstrapRule.Decide(joiner with { Answers = [Idle(1), MemberOf(2, "akka://c@h:2")] }).Should().BeOfType<BootstrapStep.Join>();
    }

    [Fact]
    public void A_single_node_forms_its_cluster_at_once_unless_it_knows_nodes_that_joined_it()
    {
        var single = new BootstrapView(1, new HashSet<ulong> { 1 }, MayForm: true, Alone: true, IsMember: false, [], 0, 3);
        BootstrapRule.Decide(single).Should().Be(new BootstrapStep.Form(1, 1));
        BootstrapRule.Decide(single with { Peers = new HashSet<ulong>() }).Should().Be(new BootstrapStep.Form(1, 1));

        // It knows node 9 (joined it with --join): it probes first, joins a running cluster, else forms after the stable rounds.
        var known = single with { Alone = false };
        BootstrapRule.Decide(known).Should().BeOfType<BootstrapStep.Wait>().Which.Lowest.Should().BeTrue();
        BootstrapRule.Decide(known with { Answers = [Idle(9, candidates: [9])], RoundsAsLowest = 2 }).Should().Be(new BootstrapStep.Form(1, 1));
        BootstrapRule.Decide(known with { Answers = [MemberOf(9, "akka://c@h:9")], RoundsAsLowest = 2 }).Should().BeOfType<BootstrapStep.Join>();
    }

    [Fact]
    public void A_lower_peer_that_has_not_finished_a_round_or_is_a_candidate_is_waited_for_one_that_sees_no_majority_is_not()
    {
        Decide(3, Three, 2, Idle(2, evaluated: false)).Should().BeOfType<BootstrapStep.Wait>().Which.Lowest.Should().BeFalse();
        Decide(3, Three, 2, Idle(1, evaluated: true, candidates: [1])).Should().BeOfType<BootstrapStep.Wait>().Which.Lowest.Should().BeFalse();
        // Five nodes: node 2 answers node 3 but sees no majority itself (it reports no candidate): node 3 forms.
        Decide(3, Five, 2, Idle(2, evaluated: true), Idle(4, candidates: [3, 4]), Idle(5, candidates: [3, 5])).Should().Be(new BootstrapStep.Form(4, 3));
    }

    [Fact]
    public void A_candidate_reported_by_a_common_peer_is_waited_for_unless_it_answered_for_itself()
    {
        // Asymmetric partition: node 2 cannot reach node 1, node 3 reaches both and reports node 1 as a candidate.
        Decide(2, Three, 2, Idle(3, candidates: [1, 3])).Should().BeOfType<BootstrapStep.Wait>().Which.Why.Should().Contain("node 1");
        // Node 1 answered node 2 itself, saying it is no candidate (it saw no majority in its own round): its word wins.
        Decide(2, Five, 2, Idle(1, evaluated: true), Idle(3, candidates: [1, 3]), Idle(4)).Should().BeOfType<BootstrapStep.Form>();
        // Reports of nodes outside PEERS, or above this node, hold nothing up.
        Decide(2, Three, 2, Idle(3, candidates: [3, 8, 0])).Should().Be(new BootstrapStep.Form(2, 2));
    }

    [Fact]
    public void Answers_from_nodes_outside_peers_do_not_make_a_majority()
    {
        Decide(2, Three, 2, Idle(7), Idle(8)).Should().BeOfType<BootstrapStep.Wait>().Which.SeesMajority.Should().BeFalse();
    }
}
