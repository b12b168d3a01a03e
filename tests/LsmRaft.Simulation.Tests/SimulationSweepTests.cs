using System.Diagnostics;
using Xunit.Abstractions;

namespace LsmRaft.Simulation.Tests;

/// <summary>The CI budget of the deterministic simulation: many seeds of a hostile world, no checker may fire.</summary>
public sealed class SimulationSweepTests(ITestOutputHelper output)
{
    private const int FirstSeed = 1;
    private const int Seeds = 500;
    private const int Steps = 2000;

    [Fact]
    public void Five_hundred_seeds_of_two_thousand_steps_find_no_violation()
    {
        var options = new SimOptions(Steps);
        var clock = Stopwatch.StartNew();
        var results = SimulationRunner.RunSeeds(FirstSeed, Seeds, options);
        clock.Stop();

        var total = new SimStats();
        var findings = new List<string>();
        foreach (var r in results)
        {
            total.Add(r.Stats);
            foreach (var v in r.Violations)
            {
                findings.Add($"seed={r.Seed} checker={v.Checker}: {v.Details}\n  replay: {SimulationRunner.ReplayCommand(r.Seed, options)}");
            }
        }

        output.WriteLine($"seeds {FirstSeed}..{FirstSeed + Seeds - 1}, {Steps} steps each, {clock.Elapsed.TotalSeconds:F1}s on {Environment.ProcessorCount} cores");
        output.WriteLine(total.ToString());
        foreach (var f in findings.Take(10))
        {
            output.WriteLine(f);
        }

        total.Committed.Should().BeGreaterThan(Seeds * 10, "the runs must commit client writes, or they check nothing");
        total.Crashes.Should().BeGreaterThan(Seeds, "the runs must crash nodes");
        total.SnapshotsInstalled.Should().BeGreaterThan(0, "lagging followers must be caught up by snapshots");
        total.ConfChangesApplied.Should().BeGreaterThan(0, "membership must change during the runs");
        findings.Count.Should().Be(0, $"no checker may fire; first finding: {findings.FirstOrDefault()}");
        clock.Elapsed.Should().BeLessThan(TimeSpan.FromMinutes(5));
    }
}
