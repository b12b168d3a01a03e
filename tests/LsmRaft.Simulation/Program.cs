using System.Diagnostics;

namespace LsmRaft.Simulation;

/// <summary>
/// <c>dotnet run -c Release --project tests/LsmRaft.Simulation -- --seeds N --start S --steps K [--nodes 3..5] [--bug NAME] [--async-persist] [--coalesce on|off] [--pipelined on|off] [--quiesce on|off] [--verbose]</c>
/// (without --coalesce, odd seeds run leaders with RaftConfig.CoalesceAppends and even seeds without; without
/// --pipelined, seeds with bit 1 set run nodes with RaftConfig.PipelinedReadies; without --quiesce, seeds with bit 2 set
/// quiesce idle groups, with a liveness oracle and client pauses)
/// runs seeds S..S+N-1, prints one line per violation with its replay command, and ends with
/// <c>seeds=N violations=V</c>; the exit code is 1 when V &gt; 0 (2 for bad arguments).
/// </summary>
internal static class Program
{
    public static int Main(string[] args)
    {
        int seeds = 1, start = 1, steps = 2000, nodes = 0;
        var bug = SimBug.None;
        var verbose = false;
        var asyncPersist = false;
        bool? coalesce = null;
        bool? pipelined = null;
        bool? quiesce = null;
        try
        {
            for (var i = 0; i < args.Length; i++)
            {
                switch (args[i])
                {
                    case "--seeds":
                        seeds = int.Parse(args[++i]);
                        break;
                    case "--start":
                        start = int.Parse(args[++i]);
                        break;
                    case "--steps":
                        steps = int.Parse(args[++i]);
                        break;
                    case "--nodes":
                        nodes = int.Parse(args[++i]);
                        if (nodes is < 3 or > 5)
                        {
                            throw new FormatException("--nodes must be 3, 4 or 5.");
                        }

                        break;
                    case "--bug":
                        bug = Enum.Parse<SimBug>(args[++i], ignoreCase: true);
                        break;
                    case "--verbose":
                        verbose = true;
                        break;
                    case "--async-persist":
                        asyncPersist = true;
                        break;
                    case "--coalesce":
                        coalesce = OnOff("--coalesce", args[++i]);
                        break;
                    case "--pipelined":
                        pipelined = OnOff("--pipelined", args[++i]);
                        break;
                    case "--quiesce":
                        quiesce = OnOff("--quiesce", args[++i]);
                        break;
                    default:
                        throw new FormatException($"Unknown argument '{args[i]}'.");
                }
            }
        }
        catch (Exception e) when (e is FormatException or ArgumentException or IndexOutOfRangeException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            Console.Error.WriteLine("usage: --seeds N --start S --steps K [--nodes 3..5] [--bug " + string.Join("|", Enum.GetNames<SimBug>()) + "] [--async-persist] [--coalesce on|off] [--pipelined on|off] [--quiesce on|off] [--verbose]");
            return 2;
        }

        var options = new SimOptions(steps, nodes, bug, verbose, asyncPersist, coalesce, pipelined, quiesce);
        var clock = Stopwatch.StartNew();
        SeedResult[] results;
        if (verbose)
        {
            results = new SeedResult[seeds];
            for (var i = 0; i < seeds; i++)
            {
                results[i] = SimulationRunner.RunSeed(start + i, options, Console.Out);
            }
        }
        else
        {
            results = SimulationRunner.RunSeeds(start, seeds, options with { Verbose = false });
        }

        var violations = 0;
        var total = new SimStats();
        foreach (var r in results)
        {
            total.Add(r.Stats);
            foreach (var v in r.Violations)
            {
                violations++;
                Console.WriteLine($"VIOLATION seed={r.Seed} checker={v.Checker}: {v.Details}");
                Console.WriteLine($"  replay: {SimulationRunner.ReplayCommand(r.Seed, options)}");
            }
        }

        if (verbose && results.Length == 1)
        {
            Console.WriteLine($"trace-hash={results[0].TraceHash:x16}");
        }

        Console.WriteLine($"{total} elapsed={clock.Elapsed.TotalSeconds:F1}s seeds {start}..{start + seeds - 1}, {steps} steps");
        Console.WriteLine($"seeds={seeds} violations={violations}");
        return violations > 0 ? 1 : 0;
    }

    private static bool OnOff(string flag, string value) => value switch
    {
        "on" => true,
        "off" => false,
        _ => throw new FormatException($"{flag} takes on or off, not '{value}'."),
    };
}
