using Xunit.Abstractions;

namespace LsmRaft.Simulation.Tests;

/// <summary>
/// The checkers bite: with a Raft rule deliberately broken, the CI seed budget (at most 500 seeds of 2,000
/// steps) finds a violation, reported by the checker that guards that rule.
/// </summary>
public sealed class BrokenVariantTests(ITestOutputHelper output)
{
    private const int Seeds = 500;
    private const int Steps = 2000;

    [Fact]
    public void Committing_an_old_term_entry_by_counting_replicas_is_caught_by_leader_completeness()
    {
        // §5.4.2 (Figure 8) needs three terms competing for one index; three voters make that likeliest.
        var found = Run(new SimOptions(Steps, Nodes: 3, Bug: SimBug.CommitOldTermByCounting));

        found.Should().Contain(v => v.Checker == "leader-completeness");
    }

    [Fact]
    public void Granting_two_votes_in_one_term_is_caught_by_election_safety()
    {
        var found = Run(new SimOptions(Steps, Bug: SimBug.GrantTwoVotesPerTerm));

        found.Should().Contain(v => v.Checker == "election-safety");
    }

    [Fact]
    public void Sending_before_the_fsync_is_caught_as_lost_acknowledged_entries()
    {
        // A follower acknowledges entries it then loses in a crash; the leader, having counted them, tells it
        // to commit past the end of its log, which the core refuses (etcd panics in the same place).
        var found = Run(new SimOptions(Steps, Bug: SimBug.SkipPersistBeforeSend));

        found.Should().Contain(v => v.Checker == "leader-completeness" || v.Checker == "state-machine-safety"
            || v.Checker == "linearizability" || (v.Checker == "core-invariant" && v.Details.Contains("past the last index")));
    }

    [Fact]
    public void Keeping_the_old_match_of_a_member_added_back_is_caught_by_leader_progress()
    {
        // The member's node forgot the group's log when it was removed; a leader that still counts its old match
        // would count it toward commit quorums for entries it does not have.
        var found = Run(new SimOptions(Steps, Bug: SimBug.KeepProgressOfReaddedMember));

        found.Should().Contain(v => v.Checker == "leader-progress");
    }

    [Fact]
    public void The_correct_core_commits_no_old_term_entry_by_counting()
    {
        // The counterpart of the first test: the statistic that shows the broken rule firing stays at zero.
        var results = SimulationRunner.RunSeeds(1, 50, new SimOptions(Steps, Nodes: 3));

        results.Sum(r => r.Stats.OldTermCommits).Should().Be(0);
    }

    private List<Violation> Run(SimOptions options)
    {
        var results = SimulationRunner.RunSeeds(1, Seeds, options);
        var found = new List<Violation>();
        foreach (var r in results)
        {
            foreach (var v in r.Violations)
            {
                found.Add(v);
                output.WriteLine($"seed={r.Seed} checker={v.Checker}: {v.Details}");
            }
        }

        output.WriteLine($"{options.Bug}: {found.Count} violations in seeds 1..{Seeds}");
        return found;
    }
}
