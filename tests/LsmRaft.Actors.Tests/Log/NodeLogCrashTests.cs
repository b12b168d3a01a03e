using LsmRaft.Actors.Log;
using LsmRaft.Raft;
using LsmRaft.Storage.IO;
using Xunit.Abstractions;

namespace LsmRaft.Actors.Tests.Log;

/// <summary>
/// Random workloads against a <see cref="MemoryFileSystem"/> that crashes (unsynced bytes lost, last
/// write torn, sometimes a corrupted last byte) with appends in flight, three times per seed.
/// Invariant checked after every crash, per group: the recovered log and hard state equal the model after
/// every acknowledged operation, optionally followed by a record-boundary prefix of the one operation that
/// was in flight (its full effect if its task completed). Nothing else, so no garbage and no loss.
/// </summary>
public sealed class NodeLogCrashTests(ITestOutputHelper output)
{
    private const string Dir = "node/raftlog";
    private static readonly ulong[] GroupIds = [1, 7, 1_000_000];

    public static IEnumerable<object[]> Seeds => Enumerable.Range(0, 200).Select(s => new object[] { s });

    [Theory]
    [MemberData(nameof(Seeds))]
    public async Task Every_acknowledged_append_survives_a_crash_exactly(int seed)
    {
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        var fs = new MemoryFileSystem();
        var models = GroupIds.ToDictionary(g => g, _ => new Model());
        ulong term = 0;
        for (int cycle = 0; cycle < 3; cycle++)
        {
            var options = new NodeLogOptions { SegmentSize = 1024 + random.Next(3072), CacheBytes = random.Next(2) * 4096 };
            var log = NodeLog.Open(fs, Dir, options);
            foreach (var (group, model) in models)
                Snapshot(log, group).Should().Be(model.Describe(), $"seed {seed}, cycle {cycle}, group {group} after reopen");

            int steps = random.Next(5, 60);
            for (int i = 0; i < steps; i++)
            {
                ulong group = GroupIds[random.Next(GroupIds.Length)];
                var op = NextOperation(random, models[group], ref term);
                await op.Run(log, group);
                models[group] = op.States[^1];
            }

            // Half of the cycles stop the writer at its second file operation (the sync after the first
            // append of the batch, or a step of a rotation) and crash there, so a torn tail is certain to be
            // possible; the others crash at whatever point the writer has reached.
            using var atSecondWrite = new ManualResetEventSlim(false);
            using var release = new ManualResetEventSlim(false);
            var inFlight = new Dictionary<ulong, (Operation Op, Task Task)>();
            bool stopAtSync = random.Next(2) == 0;
            if (stopAtSync)
            {
                int calls = 0;
                fs.BeforeWrite = _ =>
                {
                    if (Interlocked.Increment(ref calls) == 2)
                    {
                        atSecondWrite.Set();
                        release.Wait();
                    }
                };
            }
            foreach (ulong group in GroupIds.Where(_ => stopAtSync || random.Next(3) > 0))
            {
                var op = NextOperation(random, models[group], ref term, appendOnly: stopAtSync);
                inFlight[group] = (op, op.Run(log, group));
            }
            if (stopAtSync)
                atSecondWrite.Wait(TimeSpan.FromSeconds(30)).Should().BeTrue($"seed {seed}: the writer reaches its sync");
            else if (inFlight.Count > 0 && random.Next(2) == 0)
                await Task.WhenAny(inFlight.Values.Select(f => f.Task));

            fs.Crash(random);
            fs.BeforeWrite = _ => throw new IOException("the process died with the machine");
            release.Set();
            await log.DisposeAsync();
            fs.BeforeWrite = null;

            await using (var recovered = NodeLog.Open(fs, Dir, options))
            {
                foreach (ulong group in GroupIds)
                {
                    string actual = Snapshot(recovered, group);
                    var allowed = new List<Model> { models[group] };
                    if (inFlight.TryGetValue(group, out var flight))
                    {
                        if (flight.Task.IsCompletedSuccessfully)
                            allowed = [flight.Op.States[^1]];
                        else
                            allowed.AddRange(flight.Op.States);
                    }
                    var match = allowed.FirstOrDefault(m => m.Describe() == actual);
                    match.Should().NotBeNull($"seed {seed}, cycle {cycle}, group {group}: recovered\n{actual}\nallowed\n{string.Join("\n", allowed.Select(m => m.Describe()))}");
                    models[group] = match!;
                }
            }
            foreach (var (_, task) in inFlight.Values)
                await task.ContinueWith(_ => { }, TaskScheduler.Default); // observed: failed by the crash or done
        }
    }

    private static string Snapshot(NodeLog log, ulong group)
    {
        ulong first = log.FirstIndex(group), last = log.LastIndex(group);
        return $"compacted {first - 1} hs {log.GetHardState(group)} entries {NodeLogTests.Describe(log.ReadEntries(group, first, last + 1))}";
    }

    private static Operation NextOperation(Random random, Model model, ref ulong term, bool appendOnly = false)
    {
        int kind = appendOnly ? 0 : random.Next(10);
        var op = new Operation();
        if (kind < 7)
        {
            ulong start = model.Last > model.Compacted && random.Next(4) == 0
                ? model.Compacted + 1 + (ulong)random.NextInt64((long)(model.Last - model.Compacted))
                : model.Last + 1;
            term++;
            var entries = new List<Entry>();
            for (int i = random.Next(1, 5); i > 0; i--)
            {
                var data = new byte[random.Next(3) == 0 ? random.Next(300, 900) : random.Next(0, 60)];
                random.NextBytes(data);
                entries.Add(new Entry(term, start + (ulong)entries.Count, random.Next(8) == 0 ? EntryType.ConfChange : EntryType.Normal, data));
            }
            HardState? hs = random.Next(2) == 0 ? new HardState(term, (ulong)random.Next(5), (ulong)random.NextInt64((long)start)) : null;
            op.Run = (log, group) => log.AppendAsync(group, entries, hs, CancellationToken.None).AsTask();
            var state = model;
            if (start <= model.Last)
                op.States.Add(state = state.Truncate(start));
            op.States.Add(state = state.Append(entries));
            if (hs is { } h)
                op.States.Add(state.WithHardState(h));
        }
        else if (kind < 8)
        {
            var hs = new HardState(term, (ulong)random.Next(5), model.Last);
            op.Run = (log, group) => log.AppendAsync(group, [], hs, CancellationToken.None).AsTask();
            op.States.Add(model.WithHardState(hs));
        }
        else
        {
            ulong through = model.Compacted + (ulong)random.NextInt64((long)(model.Last - model.Compacted) + 1);
            op.Run = (log, group) => log.CompactAsync(group, through, CancellationToken.None).AsTask();
            op.States.Add(model.Compact(through));
        }
        return op;
    }

    private sealed class Operation
    {
        public Func<NodeLog, ulong, Task> Run { get; set; } = null!;

        /// <summary>The group's state after each record the operation writes; the last is its full effect.</summary>
        public List<Model> States { get; } = [];
    }

    /// <summary>Immutable model of one group's durable state.</summary>
    private sealed record Model(ulong Compacted, IReadOnlyList<Entry> Entries, HardState HardState)
    {
        public Model() : this(0, [], HardState.Empty) { }

        public ulong Last => Compacted + (ulong)Entries.Count;

        public Model Truncate(ulong from) => this with { Entries = Entries.Take((int)(from - Compacted - 1)).ToList() };

        public Model Append(IReadOnlyList<Entry> entries) => this with { Entries = Entries.Concat(entries).ToList() };

        public Model WithHardState(HardState hs) => this with { HardState = hs };

        public Model Compact(ulong through) => through <= Compacted
            ? this
            : this with { Compacted = through, Entries = Entries.Skip((int)(through - Compacted)).ToList() };

        public string Describe() => $"compacted {Compacted} hs {HardState} entries {NodeLogTests.Describe(Entries)}";
    }
}
