using System.Buffers.Binary;
using System.Collections.Concurrent;
using LsmRaft.Storage.IO;

namespace LsmRaft.Storage.Tests.Engine;

/// <summary>
/// Many threads on one engine with tiny options, so flushes, write stalls and compactions happen while
/// they run. Every thread does a fixed number of operations (no timing). Readers record what they saw;
/// afterwards each observation is checked against the history of the writer it observed.
/// </summary>
public sealed class ConcurrencyTests : EngineTestBase
{
    private const int Writers = 4;
    private const int Readers = 4;
    private const int BatchesPerWriter = 1500;
    private const int KeysPerWriter = 120;
    private const int ReaderOperations = 600;
    private const int SnapshotRounds = 60;
    private const int MaintenanceOperations = 25;
    private static readonly TimeSpan Deadlock = TimeSpan.FromMinutes(3);

    public static IEnumerable<object[]> Seeds => SeedRows(new[] { 11, 12 });

    /// <summary>
    /// Writers update disjoint key ranges in batches; each batch also sets the writer's progress key to the
    /// batch number. A consistent read of a writer's range (a scan, at a snapshot or not) must therefore
    /// equal that writer's model after exactly the batch its progress key names: a consistent prefix.
    /// </summary>
    [Theory]
    [MemberData(nameof(Seeds))]
    public void Readers_snapshots_and_maintenance_see_consistent_prefixes_of_concurrent_writers(int seed)
    {
        var options = SmallOptions() with
        {
            MaxImmutableMemtables = 1,
            Level0SlowdownTrigger = 3,
            Level0StopTrigger = 5,
        };
        var db = LsmEngine.Open(Dir, options);
        var writers = Enumerable.Range(0, Writers).Select(t => new WriterState(t)).ToArray();
        var observations = new ConcurrentBag<Observation>();
        var errors = new ConcurrentQueue<string>();
        string context = $"seed {seed} ({ReplayHint(seed, nameof(ConcurrencyTests))})";

        var threads = new List<Thread>();
        foreach (var writer in writers)
            threads.Add(Start(errors, $"writer {writer.Id}", () => RunWriter(db, writer, new Random(seed * 100 + writer.Id))));
        for (int r = 0; r < Readers; r++)
        {
            int id = r;
            threads.Add(Start(errors, $"reader {id}", () => RunReader(db, observations, new Random(seed * 100 + 10 + id))));
        }
        threads.Add(Start(errors, "snapshot taker", () => RunSnapshotTaker(db, observations, new Random(seed * 100 + 20))));
        threads.Add(Start(errors, "maintenance", () => RunMaintenance(db, new Random(seed * 100 + 30))));
        foreach (var thread in threads)
        {
            if (!thread.Join(Deadlock))
                throw new TimeoutException($"{context}: {thread.Name} did not finish its fixed operation count within {Deadlock} (deadlock?)");
        }
        errors.Should().BeEmpty(context);

        foreach (var writer in writers)
            FirstDifference(writer.Model, ScanRange(db, writer.Id, null)).Should().BeNull($"{context}: writer {writer.Id}'s range must equal its model");
        var stats = db.GetStats();
        stats.Flushes.Should().BeGreaterThan(0, "the workload is meant to run while flushes happen");
        stats.Compactions.Should().BeGreaterThan(0, "the workload is meant to run while compactions happen");
        db.Dispose();
        using (db = LsmEngine.Open(Dir, options))
        {
            foreach (var writer in writers)
                FirstDifference(writer.Model, ScanRange(db, writer.Id, null)).Should().BeNull($"{context}: after reopen, writer {writer.Id}'s range must equal its model");
        }

        foreach (var writer in writers)
            CheckObservations(writer, observations.Where(o => o.Writer == writer.Id), context);
    }

    [Fact]
    public void Group_commit_shares_fsyncs_among_concurrent_writers()
    {
        const int threads = 16;
        const int writesPerThread = 100;
        var fs = CreateFs();
        var options = new LsmOptions { FileSystem = fs, Sync = SyncMode.GroupCommit, CompactionLimiter = new CompactionLimiter(1) };
        using var db = LsmEngine.Open(Dir, options);
        long syncsBefore = fs.SyncCount;

        // The first WAL write waits until every thread has announced its first write, so at least one
        // group forms behind that leader however the threads are scheduled.
        using var announced = new CountdownEvent(threads);
        int held = 0;
        fs.BeforeWrite = path =>
        {
            if (path.EndsWith(".log", StringComparison.Ordinal) && Interlocked.Exchange(ref held, 1) == 0)
                announced.Wait(Deadlock).Should().BeTrue("every writer thread starts");
        };
        var errors = new ConcurrentQueue<string>();
        var workers = Enumerable.Range(0, threads).Select(t => Start(errors, $"writer {t}", () =>
        {
            announced.Signal();
            for (int i = 0; i < writesPerThread; i++)
                db.Put(B($"t{t:D2}-{i:D4}"), B($"value {i}"));
        })).ToList();
        foreach (var worker in workers)
            worker.Join(Deadlock).Should().BeTrue("writers finish");
        fs.BeforeWrite = null;
        errors.Should().BeEmpty();

        long syncs = fs.SyncCount - syncsBefore;
        syncs.Should().BeLessThan(threads * writesPerThread, "one fsync covers a whole group of queued writers");
        db.Scan(null, null).Should().HaveCount(threads * writesPerThread);
    }

    /// <summary>Closing while writers run: a write either completes (and then survives reopen) or fails with EngineClosedException.</summary>
    [Theory]
    [MemberData(nameof(DisposeSeeds))]
    public void Dispose_while_writers_run_keeps_every_acknowledged_write(int seed)
    {
        const int threads = 4;
        var options = SmallOptions() with { Sync = SyncMode.GroupCommit };
        var db = LsmEngine.Open(Dir, options);
        var acknowledged = new List<byte[]>[threads];
        var attempted = new int[threads];
        var errors = new ConcurrentQueue<string>();
        int disposeAfter = new Random(seed).Next(50, 400);
        using var progress = new CountdownEvent(threads);

        var workers = Enumerable.Range(0, threads).Select(t =>
        {
            acknowledged[t] = new List<byte[]>();
            return Start(errors, $"writer {t}", () =>
            {
                for (int i = 0; ; i++)
                {
                    var key = B($"w{t}-{i:D6}");
                    attempted[t] = i + 1;
                    try
                    {
                        db.Put(key, Value(t, i));
                    }
                    catch (EngineClosedException)
                    {
                        return;
                    }
                    acknowledged[t].Add(key);
                    if (i + 1 == disposeAfter)
                        progress.Signal();
                }
            });
        }).ToList();

        progress.Wait(Deadlock).Should().BeTrue("every writer reaches the dispose point");
        db.Dispose();
        foreach (var worker in workers)
            worker.Join(Deadlock).Should().BeTrue("writers stop once the engine is closed");
        errors.Should().BeEmpty($"seed {seed}: the only error a write may see after Dispose is EngineClosedException");

        using var reopened = LsmEngine.Open(Dir, options);
        for (int t = 0; t < threads; t++)
        {
            for (int i = 0; i < acknowledged[t].Count; i++)
                reopened.Get(acknowledged[t][i]).Should().Equal(Value(t, i), $"seed {seed}: writer {t}'s acknowledged write {i} must survive");
            var range = reopened.Scan(B($"w{t}-"), B($"w{t}."));
            range.Count.Should().BeInRange(acknowledged[t].Count, attempted[t], $"seed {seed}: writer {t} has only writes it attempted");
        }
    }

    public static IEnumerable<object[]> DisposeSeeds => SeedRows(Enumerable.Range(40, 10));

    private static byte[] Value(int writer, int i) => B($"value-{writer}-{i}-{new string('v', i % 64)}");

    private sealed class WriterState
    {
        public WriterState(int id) => Id = id;

        public int Id { get; }

        /// <summary>The writer's range now. Only its own thread touches it until the threads are joined.</summary>
        public SortedDictionary<byte[], byte[]> Model { get; } = NewModel();

        /// <summary>Operations of batch c at index c - 1 (key, value or null for a deletion); read after the threads are joined.</summary>
        public List<List<(byte[] Key, byte[]? Value)>> Batches { get; } = new();
    }

    /// <summary>A consistent read of one writer's whole range: its progress key says which batch it reflects.</summary>
    private sealed record Observation(int Writer, long Progress, IReadOnlyList<KeyValuePair<byte[], byte[]>> Entries, string How);

    private static void RunWriter(LsmEngine db, WriterState writer, Random rng)
    {
        for (int c = 1; c <= BatchesPerWriter; c++)
        {
            var batch = new WriteBatch();
            var operations = new List<(byte[] Key, byte[]? Value)>();
            int count = rng.Next(1, 5);
            for (int i = 0; i < count; i++)
            {
                var key = B($"w{writer.Id}/k{rng.Next(KeysPerWriter):D3}");
                if (rng.Next(6) == 0)
                {
                    batch.Delete(key);
                    operations.Add((key, null));
                }
                else
                {
                    var value = new byte[8 + rng.Next(0, rng.Next(10) == 0 ? 2000 : 100)];
                    BinaryPrimitives.WriteInt64BigEndian(value, c);
                    rng.NextBytes(value.AsSpan(8));
                    batch.Put(key, value);
                    operations.Add((key, value));
                }
            }
            var progress = new byte[8];
            BinaryPrimitives.WriteInt64BigEndian(progress, c);
            batch.Put(ProgressKey(writer.Id), progress);
            operations.Add((ProgressKey(writer.Id), progress));

            db.Write(batch);
            writer.Batches.Add(operations);
            foreach (var (key, value) in operations)
            {
                if (value is null) writer.Model.Remove(key);
                else writer.Model[key] = value;
            }
        }
    }

    /// <summary>Gets whose counters must never go backwards, and scans of whole ranges recorded for the prefix check.</summary>
    private static void RunReader(LsmEngine db, ConcurrentBag<Observation> observations, Random rng)
    {
        var lastSeen = new Dictionary<string, long>();
        for (int op = 0; op < ReaderOperations; op++)
        {
            int writer = rng.Next(Writers);
            int kind = rng.Next(10);
            if (kind < 6)
            {
                var key = rng.Next(4) == 0 ? ProgressKey(writer) : B($"w{writer}/k{rng.Next(KeysPerWriter):D3}");
                var value = db.Get(key);
                if (value is null)
                    continue;
                long counter = BinaryPrimitives.ReadInt64BigEndian(value);
                string name = S(key);
                if (lastSeen.TryGetValue(name, out long previous) && counter < previous)
                    throw new InvalidOperationException($"Get({name}) went back from batch {previous} to batch {counter}");
                lastSeen[name] = counter;
            }
            else
            {
                bool reverse = kind == 9;
                var entries = ScanRange(db, writer, null, reverse);
                observations.Add(new Observation(writer, ProgressOf(entries, writer), entries, reverse ? "reverse scan" : "scan"));
            }
        }
    }

    /// <summary>Snapshots read twice, with writes, flushes and compactions in between, must read the same; each read is also a prefix observation.</summary>
    private static void RunSnapshotTaker(LsmEngine db, ConcurrentBag<Observation> observations, Random rng)
    {
        var held = new List<(Snapshot Snapshot, IReadOnlyList<KeyValuePair<byte[], byte[]>>[] Ranges)>();
        for (int round = 0; round < SnapshotRounds; round++)
        {
            var snapshot = db.GetSnapshot();
            var ranges = new IReadOnlyList<KeyValuePair<byte[], byte[]>>[Writers];
            for (int w = 0; w < Writers; w++)
            {
                ranges[w] = ScanRange(db, w, snapshot);
                observations.Add(new Observation(w, ProgressOf(ranges[w], w), ranges[w], "snapshot scan"));
            }
            held.Add((snapshot, ranges));
            if (held.Count > 3 || round == SnapshotRounds - 1)
            {
                while (held.Count > (round == SnapshotRounds - 1 ? 0 : 1))
                {
                    int index = rng.Next(held.Count);
                    var (old, oldRanges) = held[index];
                    for (int w = 0; w < Writers; w++)
                    {
                        var again = ScanRange(db, w, old);
                        if (!SameEntries(oldRanges[w], again))
                            throw new InvalidOperationException($"a snapshot's scan of writer {w} changed between two reads ({oldRanges[w].Count} then {again.Count} entries)");
                        foreach (var (key, value) in oldRanges[w].Take(5))
                        {
                            if (!value.AsSpan().SequenceEqual(db.Get(key, old)))
                                throw new InvalidOperationException($"Get({S(key)}) at a snapshot disagrees with the scan at the same snapshot");
                        }
                    }
                    old.Dispose();
                    held.RemoveAt(index);
                }
            }
        }
    }

    private static void RunMaintenance(LsmEngine db, Random rng)
    {
        for (int op = 0; op < MaintenanceOperations; op++)
        {
            if (rng.Next(2) == 0)
            {
                db.Flush();
            }
            else
            {
                int w = rng.Next(Writers);
                db.CompactRange(B($"w{w}/k{rng.Next(KeysPerWriter):D3}"), rng.Next(3) == 0 ? null : B($"w{rng.Next(w, Writers)}/p"));
            }
        }
    }

    /// <summary>Replays each writer's batches and checks every observation against the state after the batch it reports.</summary>
    private static void CheckObservations(WriterState writer, IEnumerable<Observation> observations, string context)
    {
        var sorted = observations.OrderBy(o => o.Progress).ToList();
        sorted.Should().NotBeEmpty($"{context}: readers observed writer {writer.Id}");
        var state = NewModel();
        long applied = 0;
        foreach (var observation in sorted)
        {
            observation.Progress.Should().BeInRange(0, BatchesPerWriter, $"{context}: progress of writer {writer.Id}");
            while (applied < observation.Progress)
            {
                foreach (var (key, value) in writer.Batches[(int)applied])
                {
                    if (value is null) state.Remove(key);
                    else state[key] = value;
                }
                applied++;
            }
            FirstDifference(state, observation.Entries).Should().BeNull(
                $"{context}: a {observation.How} of writer {writer.Id} reporting batch {observation.Progress} must equal the writer's state after that batch");
        }
    }

    private static IReadOnlyList<KeyValuePair<byte[], byte[]>> ScanRange(LsmEngine db, int writer, Snapshot? snapshot, bool reverse = false)
    {
        // '/' + 1 == '0': the range holds exactly the keys "w{writer}/...".
        var entries = db.Scan(B($"w{writer}/"), B($"w{writer}0"), reverse: reverse, snapshot: snapshot);
        return reverse ? entries.Reverse().ToList() : entries;
    }

    private static byte[] ProgressKey(int writer) => B($"w{writer}/progress");

    private static long ProgressOf(IReadOnlyList<KeyValuePair<byte[], byte[]>> entries, int writer)
    {
        var key = ProgressKey(writer);
        foreach (var (k, v) in entries)
            if (k.AsSpan().SequenceEqual(key))
                return BinaryPrimitives.ReadInt64BigEndian(v);
        return 0;
    }

    private static bool SameEntries(IReadOnlyList<KeyValuePair<byte[], byte[]>> a, IReadOnlyList<KeyValuePair<byte[], byte[]>> b) =>
        a.Count == b.Count && a.Zip(b).All(p => p.First.Key.AsSpan().SequenceEqual(p.Second.Key) && p.First.Value.AsSpan().SequenceEqual(p.Second.Value));

    /// <summary>Starts a named thread whose failure is recorded in <paramref name="errors"/> (with its type) instead of lost.</summary>
    private static Thread Start(ConcurrentQueue<string> errors, string name, Action body)
    {
        var thread = new Thread(() =>
        {
            try
            {
                body();
            }
            catch (Exception e)
            {
                errors.Enqueue($"{name}: {e.GetType().Name}: {e.Message}\n{e.StackTrace}");
            }
        })
        {
            Name = name,
            IsBackground = true,
        };
        thread.Start();
        return thread;
    }
}
