using System.Diagnostics;
using System.Globalization;
using Akka.Actor;
using LsmRaft.Actors.Log;
using LsmRaft.Raft;
using LsmRaft.Actors.Replica;
using LsmRaft.Bench.Cli;
using LsmRaft.Bench.Metrics;
using LsmRaft.Bench.Storage;
using LsmRaft.Storage;
using LsmRaft.Storage.IO;

namespace LsmRaft.Bench.Raft;

/// <summary>
/// The <c>raft</c> command: three replicas of one group in this process on the in-memory transport;
/// P proposers each loop "propose a put, wait until committed and applied" for a fixed time. With
/// <c>--disk=nodelog</c> each replica has its own node log on disk with fsync on (group commit), and its
/// engine on disk; with <c>--disk=memory</c> logs and engines are in memory. Prints committed writes
/// per second and commit latency percentiles for each proposer count.
/// </summary>
internal static class RaftBenchmark
{
    public static IReadOnlyList<string> Help { get; } =
    [
        "--proposers=LIST   comma-separated concurrent proposer counts (default 1,16,64)",
        "--seconds=N        measured seconds per proposer count (default 10)",
        "--warmup=N         unmeasured seconds of load before each measurement (default 2; lets tiered JIT settle)",
        "--disk=KIND        memory | nodelog (default: fsync on) | nodelog-nosync (written, never fsynced: splits the cost of fsync from the rest)",
        "--value_size=N     bytes per value (default 100)",
        "--readies=N        Readies whose log writes may be in flight per replica (default: the replica's default)",
        "--db=DIR           directory for node logs and engines with --disk=nodelog (default ./data/raft-bench)",
    ];

    public static int Run(Flags flags, TextWriter output)
    {
        var counts = flags.GetString("proposers", "1,16,64").Split(',', StringSplitOptions.RemoveEmptyEntries)
            .Select(s => int.TryParse(s, out int n) && n is >= 1 and <= 4096 ? n : throw new FlagException("proposers", $"'{s}' is not a count from 1 to 4096"))
            .ToArray();
        int seconds = flags.GetInt32("seconds", 10, 1, 3600);
        int warmup = flags.GetInt32("warmup", 2, 0, 600);
        string disk = flags.GetString("disk", "nodelog");
        if (disk is not ("memory" or "nodelog" or "nodelog-nosync"))
            throw new FlagException("disk", $"'{disk}' is not one of memory, nodelog, nodelog-nosync");
        int valueSize = flags.GetInt32("value_size", 100, 0, 1 << 20);
        string dir = flags.GetString("db", "./data/raft-bench");
        int readies = flags.GetInt32("readies", ReplicaOptions.DefaultMaxReadiesInFlight, 1, 1024);
        flags.RejectUnknown("raft");

        output.WriteLine($"raft: 3 replicas, in-memory transport, disk={disk}, value {valueSize} B, {readies} Readies in flight, {seconds} s per run");
        foreach (int proposers in counts)
        {
            var r = RunOnce(disk, dir, proposers, seconds, warmup, valueSize, readies).GetAwaiter().GetResult();
            output.WriteLine(string.Format(CultureInfo.InvariantCulture,
                "raft disk={0,-14} proposers={1,3}: {2,9:F0} commits/sec  p50 {3,8:F1} micros  p99 {4,8:F1} micros  fsyncs/sec {5,7:F0}{11}  cpu {6,5:F1} micros/commit  alloc {7,6:F0} B/commit  gc0/1/2 {8}/{9}/{10}",
                disk, proposers, r.OpsPerSecond, r.Latency.PercentileNanos(50) / 1000, r.Latency.PercentileNanos(99) / 1000, r.Syncs / (double)seconds,
                r.CpuMicrosPerCommit, r.BytesPerCommit, r.Gc0, r.Gc1, r.Gc2, disk == "memory" ? "" : $" (leader {r.Leader}, followers {r.Followers})"));
        }
        return 0;
    }

    /// <summary>One measured run. CPU time and allocations are process-wide over the measured interval, divided by commits.</summary>
    private readonly record struct RunResult(double OpsPerSecond, LatencyHistogram Latency, long Syncs, double CpuMicrosPerCommit, double BytesPerCommit, int Gc0, int Gc1, int Gc2, LogFigures Leader, LogFigures Followers);

    /// <summary>What some node logs did over the measured interval: fsyncs per second (each), their mean duration, and write requests per batch.</summary>
    private readonly record struct LogFigures(double SyncsPerSecond, double SyncMicros, double WritesPerBatch)
    {
        public static LogFigures Between(IReadOnlyList<LogCounters> before, IReadOnlyList<LogCounters> after, double seconds)
        {
            long syncs = 0, ticks = 0, batches = 0, requests = 0;
            for (int i = 0; i < before.Count; i++)
            {
                syncs += after[i].Syncs - before[i].Syncs;
                ticks += after[i].SyncTicks - before[i].SyncTicks;
                batches += after[i].Batches - before[i].Batches;
                requests += after[i].Requests - before[i].Requests;
            }
            return new LogFigures(syncs / seconds / Math.Max(1, before.Count), ticks * 1e6 / Stopwatch.Frequency / Math.Max(1, syncs), requests / (double)Math.Max(1, batches));
        }

        public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{SyncsPerSecond:F0}/s each, mean {SyncMicros:F0} micros, {WritesPerBatch:F1} writes per fsync");
    }

    private readonly record struct LogCounters(long Syncs, long SyncTicks, long Batches, long Requests)
    {
        public static LogCounters Of(NodeLog log) => new(log.SyncCount, log.SyncTicks, log.BatchCount, log.BatchRequests);
    }

    private static async Task<RunResult> RunOnce(string disk, string root, int proposers, int seconds, int warmup, int valueSize, int readies)
    {
        IFileSystem fs = disk == "memory" ? new MemoryFileSystem() : PhysicalFileSystem.Instance;
        string dir = disk == "memory" ? "/bench" : Path.GetFullPath(Path.Combine(root, $"run-{proposers}-{Environment.ProcessId}"));
        if (disk != "memory" && Directory.Exists(dir))
            Directory.Delete(dir, recursive: true);
        fs.CreateDirectory(dir);
        var members = new ConfState([1UL, 2UL, 3UL], []);
        var network = new InMemoryNetwork();
        var statusChanged = new ChangeSignal();
        var system = NodeActorSystem.Create("raft-bench");
        var logs = new List<NodeLog>();
        var monitors = new Dictionary<ulong, ReplicaMonitor>();
        var refs = new Dictionary<ulong, IActorRef>();
        try
        {
            foreach (var id in members.Voters)
            {
                string replicaDir = Path.Combine(dir, $"node{id}");
                fs.CreateDirectory(replicaDir);
                IReplicaLog log;
                if (disk == "memory")
                {
                    log = new MemoryReplicaLog(new MemoryRaftStorage(members));
                }
                else
                {
                    var nodeLog = NodeLog.Open(fs, Path.Combine(replicaDir, "raftlog"), new NodeLogOptions { SyncWrites = disk == "nodelog" });
                    logs.Add(nodeLog);
                    log = new NodeLogReplicaLog(nodeLog, 1, fs, replicaDir, members);
                }
                var options = new ReplicaOptions
                {
                    GroupId = 1,
                    NodeId = id,
                    Directory = replicaDir,
                    InitialMembers = members,
                    EngineOptions = new LsmOptions { FileSystem = fs, FlushThresholdBytes = 16 << 20 },
                    TickInterval = TimeSpan.FromMilliseconds(20),
                    StatusChanged = statusChanged,
                    SnapshotInterval = 1_000_000,
                    Seed = (int)id,
                    MaxReadiesInFlight = readies,
                };
                // The bench's proposers are its own admission control (one request each): no in-flight bound.
                var monitor = monitors[id] = new ReplicaMonitor(int.MaxValue);
                var replica = system.ActorOf(ReplicaActor.Props(options, log, network.TransportFor(id), monitor), $"replica-{id}");
                refs[id] = replica;
                network.Register(id, 1, replica);
            }

            ulong leader = 0;
            bool elected = await statusChanged.WaitUntilAsync(() =>
            {
                leader = monitors.Values.FirstOrDefault(r => r.Status is { Role: RaftRole.Leader })?.Status?.NodeId ?? 0;
                return leader != 0;
            }, TimeSpan.FromSeconds(30)).ConfigureAwait(false);
            if (!elected)
                throw new BenchmarkFailedException("raft", new TimeoutException("no leader was elected within 30 s"));

            var value = new byte[valueSize];
            new Random(7).NextBytes(value);
            // Proposers run from the start; only proposals begun after the warm-up count, and the process-wide
            // counters (CPU, allocations, GCs, fsyncs) are read at the end of the warm-up.
            var histograms = new LatencyHistogram[proposers];
            var counts = new long[proposers];
            long measureFrom = long.MaxValue;
            using var stopAll = new CancellationTokenSource();
            var tasks = Enumerable.Range(0, proposers).Select(p => Task.Run(async () =>
            {
                var histogram = histograms[p] = new LatencyHistogram();
                var target = refs[leader];
                long i = 0;
                while (!stopAll.IsCancellationRequested)
                {
                    var key = System.Text.Encoding.ASCII.GetBytes($"p{p:D4}-{i++:D12}");
                    long start = Stopwatch.GetTimestamp();
                    var outcome = await target.RequestAsync<ProposeOutcome>(r => new ReplicaMessage.Propose(KvCommand.Put(key, value), r), TimeSpan.FromSeconds(30)).ConfigureAwait(false);
                    if (outcome is not ProposeOutcome.Committed)
                        throw new BenchmarkFailedException("raft", new InvalidOperationException($"proposal ended with {outcome}; the leader changed during the run (replicas now: {string.Join("; ", monitors.Values.Select(m => m.Status is { } s ? $"node {s.NodeId} {s.Role} term {s.Term} leader {s.Leader} commit {s.Commit}" : "no status"))})"));
                    if (start >= Volatile.Read(ref measureFrom) && !stopAll.IsCancellationRequested)
                    {
                        histogram.RecordTicks(Stopwatch.GetTimestamp() - start);
                        counts[p]++;
                    }
                }
            })).ToArray();
            await Task.Delay(TimeSpan.FromSeconds(warmup)).ConfigureAwait(false);
            long syncsBefore = logs.Sum(l => l.SyncCount);
            var countersBefore = logs.Select(LogCounters.Of).ToList();
            var process = Process.GetCurrentProcess();
            var cpuBefore = process.TotalProcessorTime;
            long allocBefore = GC.GetTotalAllocatedBytes(precise: false);
            int gc0 = GC.CollectionCount(0), gc1 = GC.CollectionCount(1), gc2 = GC.CollectionCount(2);
            var stop = Stopwatch.StartNew();
            Volatile.Write(ref measureFrom, Stopwatch.GetTimestamp());
            await Task.Delay(TimeSpan.FromSeconds(seconds)).ConfigureAwait(false);
            stopAll.Cancel();
            double elapsed = stop.Elapsed.TotalSeconds;
            await Task.WhenAll(tasks).ConfigureAwait(false);
            process.Refresh();
            // Proposals still in flight at the stop finish before the counters are read: at most one per proposer.
            double cpuMicros = (process.TotalProcessorTime - cpuBefore).TotalMicroseconds;
            long allocated = GC.GetTotalAllocatedBytes(precise: false) - allocBefore;
            long commits = Math.Max(1, counts.Sum());
            var merged = new LatencyHistogram();
            foreach (var h in histograms)
                merged.Merge(h);
            var countersAfter = logs.Select(LogCounters.Of).ToList();
            // Logs are in voter order (nodes 1, 2, 3); the leader stayed the same (a change fails the run).
            var isLeader = members.Voters.Select(id => id == leader).ToList();
            LogFigures Figures(bool leaders) => LogFigures.Between(
                countersBefore.Where((_, i) => isLeader[i] == leaders).ToList(), countersAfter.Where((_, i) => isLeader[i] == leaders).ToList(), elapsed);
            return new RunResult(counts.Sum() / elapsed, merged, logs.Sum(l => l.SyncCount) - syncsBefore, cpuMicros / commits, allocated / (double)commits,
                GC.CollectionCount(0) - gc0, GC.CollectionCount(1) - gc1, GC.CollectionCount(2) - gc2, Figures(true), Figures(false));
        }
        finally
        {
            foreach (var r in refs.Values)
                await system.StopAsync(r).ConfigureAwait(false);
            await system.Terminate().ConfigureAwait(false);
            foreach (var log in logs)
                await log.DisposeAsync().ConfigureAwait(false);
            if (disk != "memory" && Directory.Exists(dir))
                Directory.Delete(dir, recursive: true);
        }
    }
}
