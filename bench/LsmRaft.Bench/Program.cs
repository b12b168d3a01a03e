using LsmRaft.Bench.Cli;
using LsmRaft.Bench.Fsync;
using LsmRaft.Bench.Storage;
using LsmRaft.Storage;

namespace LsmRaft.Bench;

/// <summary>
/// <c>LsmRaft.Bench storage [--flag=value ...]</c> runs db_bench-compatible storage benchmarks;
/// <c>LsmRaft.Bench fsync [...]</c> measures the disk's fsync rate. No arguments runs a small storage
/// workload. Exit codes: 0 success, 1 a benchmark failed, 2 invalid command line.
/// </summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        string command = args.Length > 0 && !args[0].StartsWith('-') ? args[0] : "storage";
        var rest = args.Length > 0 && !args[0].StartsWith('-') ? args[1..] : args;
        if (rest.Contains("--help") || rest.Contains("-h") || command is "help")
        {
            PrintHelp(Console.Out);
            return 0;
        }
        try
        {
            var flags = new Flags(rest);
            switch (command)
            {
                case "storage":
                {
                    var settings = StorageSettings.Parse(flags);
                    using var benchmark = new StorageBenchmark(settings, Console.Out);
                    benchmark.Run();
                    return 0;
                }
                case "fsync":
                    return FsyncBenchmark.Run(flags, Console.Out);
                case "raft":
                    return Raft.RaftBenchmark.Run(flags, Console.Out);
                case "cluster":
                    return Cluster.ClusterLoad.Run(flags, Console.Out);
                default:
                    Console.Error.WriteLine($"error: unknown command '{command}'; use 'storage', 'fsync', 'raft' or 'cluster' (--help lists the flags)");
                    return 2;
            }
        }
        catch (FlagException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 2;
        }
        catch (Exception e) when (e is BenchmarkFailedException or LsmException or IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }

    private static void PrintHelp(TextWriter o)
    {
        o.WriteLine("usage: LsmRaft.Bench storage [--flag=value ...]   db_bench-compatible benchmarks of LsmRaft.Storage");
        o.WriteLine("       LsmRaft.Bench fsync [--flag=value ...]     single-writer append+fsync rate of the disk");
        o.WriteLine("       LsmRaft.Bench raft [--flag=value ...]      committed proposals/s of 3 in-process replicas");
        o.WriteLine("       LsmRaft.Bench cluster [--flag=value ...]   HTTP load on an LsmRaft or etcd cluster");
        o.WriteLine();
        o.WriteLine("storage flags:");
        foreach (var line in StorageSettings.Help)
            o.WriteLine("  " + line);
        o.WriteLine();
        o.WriteLine("fsync flags:");
        foreach (var line in FsyncBenchmark.Help)
            o.WriteLine("  " + line);
        o.WriteLine();
        o.WriteLine("raft flags:");
        foreach (var line in Raft.RaftBenchmark.Help)
            o.WriteLine("  " + line);
        o.WriteLine();
        o.WriteLine("cluster flags:");
        foreach (var line in Cluster.ClusterLoad.Help)
            o.WriteLine("  " + line);
    }
}
