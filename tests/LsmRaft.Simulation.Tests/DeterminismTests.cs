namespace LsmRaft.Simulation.Tests;

public sealed class DeterminismTests
{
    [Theory]
    [InlineData(7)]
    [InlineData(295)]
    [InlineData(478)]
    public void The_same_seed_gives_the_same_trace(int seed)
    {
        var options = new SimOptions(2000);

        var first = SimulationRunner.RunSeed(seed, options);
        var second = SimulationRunner.RunSeed(seed, options);

        second.TraceHash.Should().Be(first.TraceHash);
        second.Violations.Should().BeEquivalentTo(first.Violations);
        second.Stats.Should().BeEquivalentTo(first.Stats);
    }

    [Fact]
    public void Different_seeds_give_different_traces()
    {
        var options = new SimOptions(500);

        SimulationRunner.RunSeed(1, options).TraceHash.Should().NotBe(SimulationRunner.RunSeed(2, options).TraceHash);
    }

    [Fact]
    public void Results_do_not_depend_on_how_many_seeds_run_in_parallel()
    {
        var options = new SimOptions(1000);

        var sequential = SimulationRunner.RunSeeds(100, 12, options, maxParallelism: 1);
        var parallel = SimulationRunner.RunSeeds(100, 12, options, maxParallelism: 4);

        parallel.Select(r => r.TraceHash).Should().Equal(sequential.Select(r => r.TraceHash));
    }
}
