namespace LsmRaft.Storage.Tests.Engine;

/// <summary>
/// The origin runs with <c>FLUSH_THRESHOLD_BYTES=1024</c>: a memtable flushes every few writes. Compaction must keep the
/// number of tables bounded under such a load instead of letting thousands of tiny L0 tables pile up.
/// </summary>
public sealed class TinyFlushThresholdTests : EngineTestBase
{
    [Fact]
    public void A_1024_byte_threshold_under_a_write_load_keeps_the_table_count_bounded()
    {
        const int seed = 1024;
        var random = new Random(seed);
        var options = new LsmOptions { FileSystem = Fs, FlushThresholdBytes = 1024, Sync = SyncMode.None, CompactionLimiter = new CompactionLimiter(1) };
        // L0 never holds more than the stop trigger (writers wait there); the levels below hold a few compaction outputs.
        int bound = options.Level0StopTrigger + 8;
        var model = NewModel();
        int maxTables = 0;
        using (var db = LsmEngine.Open(Dir, options))
        {
            for (int i = 0; i < 20_000; i++)
            {
                var key = B($"key-{random.Next(5_000):D5}");
                var value = new byte[random.Next(50, 150)];
                random.NextBytes(value);
                db.Put(key, value);
                model[key] = value;
                if (i % 100 == 0)
                    maxTables = Math.Max(maxTables, Tables(db));
            }
            var stats = db.GetStats();
            stats.Flushes.Should().BeGreaterThan(1_000, "a 1024-byte memtable flushes every few writes (seed {0})", seed);
            stats.Compactions.Should().BeGreaterThan(0);
            maxTables.Should().BeLessThanOrEqualTo(bound, "compaction keeps up with tiny flushes (seed {0})", seed);

            // Once the load stops, compaction drains L0 below its trigger (bounded wait, no sleep as synchronisation).
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (db.GetStats().Levels[0].Files >= options.Level0CompactionTrigger && DateTime.UtcNow < deadline)
                Thread.Sleep(20);
            db.GetStats().Levels[0].Files.Should().BeLessThan(options.Level0CompactionTrigger, "compaction drains L0 after the load");
            FirstDifference(model, db.Scan(null, null)).Should().BeNull("every write is readable (seed {0})", seed);
        }
        using (var reopened = LsmEngine.Open(Dir, options))
            FirstDifference(model, reopened.Scan(null, null)).Should().BeNull("every write survives a reopen (seed {0})", seed);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(1024)]
    public void Any_threshold_of_at_least_one_byte_opens_and_flushes(long threshold)
    {
        using var db = LsmEngine.Open(Dir, new LsmOptions { FileSystem = Fs, FlushThresholdBytes = threshold, Sync = SyncMode.None });
        for (int i = 0; i < 200; i++)
            db.Put(B($"k{i:D3}"), B($"value-{i:D3}"));
        // Flushes run in the background: poll with a bounded deadline.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (db.GetStats().Flushes == 0 && DateTime.UtcNow < deadline)
            Thread.Sleep(20);
        db.GetStats().Flushes.Should().BeGreaterThan(0, "{0} bytes of writes pass a {1}-byte threshold", 200 * 13, threshold);
        S(db.Get(B("k199"))).Should().Be("value-199");
    }

    private static int Tables(LsmEngine db) => db.GetStats().Levels.Sum(l => l.Files);
}
