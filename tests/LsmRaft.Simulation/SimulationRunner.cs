namespace LsmRaft.Simulation;

/// <summary>Runs a range of seeds, in parallel over the cores; each seed's run is independent and deterministic.</summary>
internal static class SimulationRunner
{
    public static SeedResult RunSeed(int seed, SimOptions options, TextWriter? verboseOut = null)
    {
        var sim = new Simulator(seed, options, verboseOut);
        var violations = sim.Run();
        return new SeedResult(seed, violations, sim.TraceHash, sim.Stats);
    }

    /// <summary>Results in seed order, whatever the parallel schedule was.</summary>
    public static SeedResult[] RunSeeds(int start, int count, SimOptions options, int maxParallelism = 0)
    {
        var results = new SeedResult[count];
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = maxParallelism > 0 ? maxParallelism : Environment.ProcessorCount };
        Parallel.For(0, count, parallel, i => results[i] = RunSeed(start + i, options));
        return results;
    }

    /// <summary>The command that replays one seed with its event trace.</summary>
    public static string ReplayCommand(int seed, SimOptions options)
    {
        var command = $"dotnet run -c Release --project tests/LsmRaft.Simulation -- --seeds 1 --start {seed} --steps {options.Steps}";
        if (options.Nodes > 0)
        {
            command += $" --nodes {options.Nodes}";
        }

        if (options.Bug != SimBug.None)
        {
            command += $" --bug {options.Bug}";
        }

        if (options.AsyncLeaderPersist)
        {
            command += " --async-persist";
        }

        if (options.CoalesceAppends is { } coalesce)
        {
            command += coalesce ? " --coalesce on" : " --coalesce off";
        }

        if (options.PipelinedReadies is { } pipelined)
        {
            command += pipelined ? " --pipelined on" : " --pipelined off";
        }

        if (options.Quiesce is { } quiesce)
        {
            command += quiesce ? " --quiesce on" : " --quiesce off";
        }

        return command + " --verbose";
    }
}
