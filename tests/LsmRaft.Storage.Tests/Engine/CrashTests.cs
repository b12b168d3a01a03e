using LsmRaft.Storage.IO;
using Xunit.Abstractions;

namespace LsmRaft.Storage.Tests.Engine;

/// <summary>
/// Power-loss tests on <see cref="MemoryFileSystem"/>. A workload of random writes and flushes runs until a
/// crash, either between two operations or at a random mutating file-system call (inside a WAL append, a
/// sync, a flush, a compaction or a manifest update). The engine is abandoned, not disposed: its process is
/// dead (see <see cref="FencedFileSystem"/>). A new engine opened on what the crash left must then hold the
/// state the durability contract promises.
/// </summary>
public sealed class CrashTests : EngineTestBase
{
    private const int GroupCommitSeeds = 100;
    private const int NoSyncSeeds = 60;
    private const int WalOffSeeds = 60;

    private readonly ITestOutputHelper _output;

    public CrashTests(ITestOutputHelper output) => _output = output;

    public static IEnumerable<object[]> GroupCommitSeedRows => SeedRows(Enumerable.Range(1000, GroupCommitSeeds));

    public static IEnumerable<object[]> NoSyncSeedRows => SeedRows(Enumerable.Range(2000, NoSyncSeeds));

    public static IEnumerable<object[]> WalOffSeedRows => SeedRows(Enumerable.Range(3000, WalOffSeeds));

    /// <summary>With GroupCommit every acknowledged write was synced: recovery yields exactly them, plus perhaps the one in flight.</summary>
    [Theory]
    [MemberData(nameof(GroupCommitSeedRows))]
    public void Group_commit_recovers_exactly_the_acknowledged_writes(int seed)
    {
        var outcome = RunUntilCrash(seed, SyncMode.GroupCommit, enableWal: true);
        Recovered(seed, nameof(Group_commit_recovers_exactly_the_acknowledged_writes), outcome, (db, state) =>
        {
            if (SameState(outcome.Acknowledged, state))
                return null;
            if (outcome.InFlight is not null && SameState(outcome.InFlight, state))
                return null;
            return $"recovered state is neither the {outcome.AcknowledgedCount} acknowledged writes ({FirstDifference(outcome.Acknowledged, state)})" +
                   (outcome.InFlight is null ? "" : " nor those plus the write in flight");
        });
    }

    /// <summary>Without sync, a crash may lose acknowledged writes, but only a suffix, and never what a completed Flush made durable.</summary>
    [Theory]
    [MemberData(nameof(NoSyncSeedRows))]
    public void Without_sync_recovery_yields_a_prefix_of_the_writes_no_shorter_than_the_last_flush(int seed)
    {
        var outcome = RunUntilCrash(seed, SyncMode.None, enableWal: true);
        Recovered(seed, nameof(Without_sync_recovery_yields_a_prefix_of_the_writes_no_shorter_than_the_last_flush), outcome, (db, state) =>
        {
            for (int p = outcome.LastFlushedCount; p < outcome.History.Count; p++)
                if (SameState(outcome.History[p], state))
                    return null;
            return $"recovered state equals the model after no prefix of {outcome.LastFlushedCount}..{outcome.History.Count - 1} writes " +
                   $"(last Flush covered {outcome.LastFlushedCount}; against the acknowledged state: {FirstDifference(outcome.Acknowledged, state)})";
        });
    }

    /// <summary>With the WAL off, what survives is exactly what flushes made durable, and the engine says how far that goes.</summary>
    [Theory]
    [MemberData(nameof(WalOffSeedRows))]
    public void With_wal_off_recovery_yields_the_state_after_the_durable_applied_index(int seed)
    {
        var outcome = RunUntilCrash(seed, SyncMode.None, enableWal: false);
        Recovered(seed, nameof(With_wal_off_recovery_yields_the_state_after_the_durable_applied_index), outcome, (db, state) =>
        {
            long k = db.DurableAppliedIndex;
            if (k < -1 || k >= outcome.History.Count)
                return $"DurableAppliedIndex {k} is outside -1..{outcome.History.Count - 1}";
            if (k < outcome.LastFlushedCount && !(k == -1 && outcome.LastFlushedCount == 0))
                return $"DurableAppliedIndex {k} is below {outcome.LastFlushedCount}, which a completed Flush made durable";
            var expected = outcome.History[k < 0 ? 0 : (int)k];
            return FirstDifference(expected, state) is { } difference
                ? $"DurableAppliedIndex is {k} but the data is not the model after write {k}: {difference}"
                : null;
        });
    }

    /// <summary>What a workload left behind: the model after each write (index = writes applied), and what was acknowledged.</summary>
    private sealed record Outcome(
        MemoryFileSystem Fs,
        LsmOptions Options,
        LsmEngine Abandoned,
        List<SortedDictionary<byte[], byte[]>> History,
        int AcknowledgedCount,
        int LastFlushedCount,
        string CrashPoint)
    {
        public SortedDictionary<byte[], byte[]> Acknowledged => History[AcknowledgedCount];

        /// <summary>The model after the write that was in flight at the crash (neither acknowledged nor refused before it), if any.</summary>
        public SortedDictionary<byte[], byte[]>? InFlight => History.Count > AcknowledgedCount + 1 ? History[AcknowledgedCount + 1] : null;
    }

    /// <summary>
    /// Runs random writes (puts, deletes, batches; with the WAL off each carries appliedIndex = its write
    /// number) and flushes until the crash. History[i] is the model after i writes; it ends with the write in
    /// flight at the crash, if one was.
    /// </summary>
    private Outcome RunUntilCrash(int seed, SyncMode sync, bool enableWal)
    {
        var rng = new Random(seed);
        var fs = CreateFs();
        var process = new FencedFileSystem(fs, new Random(seed ^ 0x5EED));
        var options = SmallOptions(process) with { Sync = sync, EnableWal = enableWal };
        var db = LsmEngine.Open(Dir, options);

        int plannedWrites = rng.Next(50, 400);
        bool crashInsideCall = rng.Next(2) == 0;
        int crashBeforeWrite = rng.Next(plannedWrites + 1);
        string crashPoint;
        if (crashInsideCall)
        {
            long call = rng.Next(1, plannedWrites * (enableWal ? 3 : 1) + 20);
            process.ArmCrash(call);
            crashPoint = $"at mutating file-system call {call} after open";
        }
        else
        {
            crashPoint = $"between operations, before write {crashBeforeWrite + 1}";
        }

        var history = new List<SortedDictionary<byte[], byte[]>> { NewModel() };
        int acknowledged = 0, lastFlushed = 0;
        try
        {
            while (acknowledged < plannedWrites && !process.Crashed)
            {
                if (!crashInsideCall && acknowledged == crashBeforeWrite)
                {
                    process.CrashNow();
                    break;
                }
                if (rng.Next(100) < 6)
                {
                    db.Flush();
                    if (!process.Crashed)
                        lastFlushed = acknowledged;
                    continue;
                }
                var next = CopyModel(history[acknowledged]);
                var batch = RandomBatch(rng, next);
                history.Add(next);
                db.Write(batch, enableWal ? -1 : acknowledged + 1);
                if (process.Crashed)
                {
                    // Returned after the crash: nothing acknowledged by a dead process counts.
                    break;
                }
                acknowledged++;
            }
        }
        catch (Exception) when (process.Crashed)
        {
            // The crash surfaced as an error from the engine; the write (if one was under way) stays in flight.
        }
        if (process.CrashNow())
            crashPoint = $"after the workload ended ({crashPoint} was not reached)";
        if (history.Count > acknowledged + 2)
            throw new InvalidOperationException("at most one write can be in flight");
        return new Outcome(fs, options, db, history, acknowledged, lastFlushed, crashPoint);
    }

    private static WriteBatch RandomBatch(Random rng, SortedDictionary<byte[], byte[]> model)
    {
        var batch = new WriteBatch();
        int count = rng.Next(10) < 7 ? 1 : rng.Next(2, 6);
        for (int i = 0; i < count; i++)
        {
            var key = B($"key{rng.Next(300):D3}");
            if (rng.Next(5) == 0)
            {
                batch.Delete(key);
                model.Remove(key);
            }
            else
            {
                var value = new byte[rng.Next(10) == 0 ? rng.Next(1000, 3000) : rng.Next(0, 200)];
                rng.NextBytes(value);
                batch.Put(key, value);
                model[key] = value;
            }
        }
        return batch;
    }

    /// <summary>Opens a new engine (a new process) on what the crash left and applies <paramref name="check"/> to its full contents.</summary>
    private void Recovered(int seed, string test, Outcome outcome, Func<LsmEngine, IReadOnlyList<KeyValuePair<byte[], byte[]>>, string?> check)
    {
        // A fresh limiter too: the abandoned engine must not be able to hold the successor's compaction slot.
        var options = outcome.Options with
        {
            FileSystem = new FencedFileSystem(outcome.Fs, new Random(seed)),
            CompactionLimiter = new CompactionLimiter(1),
        };
        string context = $"seed {seed}: crash {outcome.CrashPoint}; {outcome.AcknowledgedCount} writes acknowledged, {outcome.History.Count - 1 - outcome.AcknowledgedCount} in flight, last Flush after write {outcome.LastFlushedCount}";
        try
        {
            LsmEngine db;
            try
            {
                db = LsmEngine.Open(Dir, options);
            }
            catch (Exception e)
            {
                throw new ModelMismatchException($"{context}: reopening after the crash failed: {e.GetType().Name}: {e.Message}\n{ReplayHint(seed, test)}", e);
            }
            using (db)
            {
                var state = db.Scan(null, null);
                if (check(db, state) is { } problem)
                    throw new ModelMismatchException($"{context}: {problem}\n{ReplayHint(seed, test)}");
                _output.WriteLine($"{context}; recovered {state.Count} keys, durable applied index {db.DurableAppliedIndex}");
            }
        }
        finally
        {
            // Only now, with the successor closed, let the dead engine's threads finish; every write it tries fails.
            try
            {
                outcome.Abandoned.Dispose();
            }
            catch (Exception)
            {
                // Expected: the dead engine cannot sync or flush any more.
            }
        }
    }
}
