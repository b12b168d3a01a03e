namespace LsmRaft.Storage.Tests.Engine;

public sealed class EngineBasicsTests : EngineTestBase
{
    [Fact]
    public void Put_get_delete_round_trip()
    {
        using var db = LsmEngine.Open(Dir, SmallOptions());
        db.Put(B("a"), B("1"));
        db.Put(B("b"), B("2"));
        db.Get(B("a")).Should().Equal(B("1"));
        db.Delete(B("a"));
        db.Get(B("a")).Should().BeNull();
        db.Get(B("b")).Should().Equal(B("2"));
        db.Get(B("missing")).Should().BeNull();
    }

    [Fact]
    public void Keys_order_unsigned_bytewise()
    {
        using var db = LsmEngine.Open(Dir, SmallOptions());
        db.Put(new byte[] { 0x80 }, B("high"));
        db.Put(new byte[] { 0x7F }, B("low"));
        db.Put(new byte[] { 0x00 }, B("zero"));
        db.Put(new byte[] { 0xFF, 0x00 }, B("top"));
        db.Scan(null, null).Select(kv => kv.Key[0]).Should().Equal(0x00, 0x7F, 0x80, 0xFF);
    }

    [Fact]
    public void Values_survive_flush_compaction_and_reopen()
    {
        var options = SmallOptions();
        using (var db = LsmEngine.Open(Dir, options))
        {
            for (int i = 0; i < 5000; i++)
                db.Put(B($"key{i:D6}"), B($"value{i}-{new string('x', 40)}"));
            for (int i = 0; i < 5000; i += 3)
                db.Delete(B($"key{i:D6}"));
            db.Flush();
            db.CompactRange();
            db.GetStats().Levels.Sum(l => l.Files).Should().BeGreaterThan(0);
        }
        using (var db = LsmEngine.Open(Dir, options))
        {
            for (int i = 0; i < 5000; i++)
            {
                var value = db.Get(B($"key{i:D6}"));
                if (i % 3 == 0)
                    value.Should().BeNull($"key{i} was deleted");
                else
                    S(value).Should().StartWith($"value{i}-");
            }
            db.Scan(null, null).Should().HaveCount(5000 - 1667);
        }
    }

    [Fact]
    public void Unflushed_writes_are_recovered_from_the_wal_after_reopen()
    {
        var options = SmallOptions();
        using (var db = LsmEngine.Open(Dir, options))
        {
            db.Put(B("k"), B("v"));
        }
        using (var db = LsmEngine.Open(Dir, options))
            db.Get(B("k")).Should().Equal(B("v"));
    }

    [Fact]
    public void Scan_respects_bounds_limit_and_direction()
    {
        using var db = LsmEngine.Open(Dir, SmallOptions());
        for (int i = 0; i < 20; i++)
            db.Put(B($"k{i:D2}"), B($"{i}"));
        db.Scan(B("k05"), B("k10")).Select(kv => S(kv.Key)).Should().Equal("k05", "k06", "k07", "k08", "k09");
        db.Scan(B("k05"), B("k10"), limit: 2).Select(kv => S(kv.Key)).Should().Equal("k05", "k06");
        db.Scan(B("k05"), B("k10"), reverse: true).Select(kv => S(kv.Key)).Should().Equal("k09", "k08", "k07", "k06", "k05");
        db.Scan(null, B("k02"), reverse: true).Select(kv => S(kv.Key)).Should().Equal("k01", "k00");
        db.Scan(B("k10"), B("k05")).Should().BeEmpty();
    }

    [Fact]
    public void Snapshot_gives_repeatable_reads_across_writes_flushes_and_compactions()
    {
        using var db = LsmEngine.Open(Dir, SmallOptions());
        for (int i = 0; i < 1000; i++)
            db.Put(B($"k{i:D4}"), B("old"));
        using var snapshot = db.GetSnapshot();
        for (int i = 0; i < 1000; i++)
        {
            if (i % 2 == 0) db.Delete(B($"k{i:D4}"));
            else db.Put(B($"k{i:D4}"), B("new"));
        }
        db.CompactRange();
        db.Get(B("k0000"), snapshot).Should().Equal(B("old"));
        db.Get(B("k0001"), snapshot).Should().Equal(B("old"));
        db.Get(B("k0000")).Should().BeNull();
        db.Get(B("k0001")).Should().Equal(B("new"));
        db.Scan(null, null, snapshot: snapshot).Should().HaveCount(1000).And.OnlyContain(kv => S(kv.Value) == "old");
    }

    [Fact]
    public void Second_open_of_the_same_directory_is_refused_with_a_clear_error()
    {
        using var db = LsmEngine.Open(Dir, SmallOptions());
        var act = () => LsmEngine.Open(Dir, SmallOptions());
        act.Should().Throw<DatabaseLockedException>().WithMessage("*already open*");
    }

    [Fact]
    public void Second_open_on_the_real_disk_is_refused()
    {
        string dir = Path.Combine(Path.GetTempPath(), "lsmraft-lock-" + Guid.NewGuid().ToString("N"));
        try
        {
            using var db = LsmEngine.Open(dir, new LsmOptions { Sync = SyncMode.None });
            var act = () => LsmEngine.Open(dir);
            act.Should().Throw<DatabaseLockedException>();
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Oversize_key_and_value_are_rejected_and_nothing_is_written()
    {
        using var db = LsmEngine.Open(Dir, SmallOptions());
        var bigKey = new byte[Limits.MaxKeySize + 1];
        var act = () => db.Put(bigKey, B("v"));
        act.Should().Throw<LimitExceededException>().WithMessage("*64 KiB*");
        var bigValue = new byte[Limits.MaxValueSize + 1];
        act = () => db.Put(B("k"), bigValue);
        act.Should().Throw<LimitExceededException>().WithMessage("*32 MiB*");
        db.Scan(null, null).Should().BeEmpty();
    }

    [Fact]
    public void Invalid_options_name_the_option()
    {
        var act = () => LsmEngine.Open(Dir, SmallOptions() with { BloomFalsePositiveRate = 0 });
        act.Should().Throw<InvalidOptionException>().Which.Option.Should().Be("BloomFalsePositiveRate");
        act = () => LsmEngine.Open(Dir, SmallOptions() with { FlushThresholdBytes = 0 });
        act.Should().Throw<InvalidOptionException>().Which.Option.Should().Be("FlushThresholdBytes");
    }

    [Fact]
    public void Use_after_dispose_throws_a_typed_error()
    {
        var db = LsmEngine.Open(Dir, SmallOptions());
        db.Dispose();
        var act = () => db.Put(B("k"), B("v"));
        act.Should().Throw<EngineClosedException>();
    }

    [Fact]
    public void Batch_is_atomic_and_later_operations_win()
    {
        using var db = LsmEngine.Open(Dir, SmallOptions());
        var batch = new WriteBatch().Put(B("a"), B("1")).Put(B("b"), B("2")).Delete(B("a")).Put(B("c"), B("3"));
        db.Write(batch);
        db.Get(B("a")).Should().BeNull();
        db.Get(B("b")).Should().Equal(B("2"));
        db.Get(B("c")).Should().Equal(B("3"));
    }

    [Fact]
    public void With_wal_off_the_applied_index_is_durable_after_flush_and_reported_on_open()
    {
        var options = SmallOptions() with { EnableWal = false };
        using (var db = LsmEngine.Open(Dir, options))
        {
            db.DurableAppliedIndex.Should().Be(-1);
            db.Write(new WriteBatch().Put(B("a"), B("1")), appliedIndex: 7);
            db.Write(new WriteBatch().Put(B("b"), B("2")), appliedIndex: 8);
            db.DurableAppliedIndex.Should().Be(-1);
            db.Flush();
            db.DurableAppliedIndex.Should().Be(8);
            db.Write(new WriteBatch().Put(B("c"), B("3")), appliedIndex: 9);
        }
        using (var db = LsmEngine.Open(Dir, options))
        {
            db.DurableAppliedIndex.Should().Be(9, "a clean close flushes when the WAL is off");
            db.Get(B("c")).Should().Equal(B("3"));
        }
    }

    [Fact]
    public void Checkpoint_opens_as_an_independent_engine_with_the_same_data()
    {
        using var db = LsmEngine.Open(Dir, SmallOptions());
        for (int i = 0; i < 3000; i++)
            db.Put(B($"k{i:D5}"), B($"v{i}"));
        db.CreateCheckpoint("/checkpoint");
        db.Put(B("after"), B("x"));
        db.CompactRange();
        using var copy = LsmEngine.Open("/checkpoint", SmallOptions());
        copy.Get(B("after")).Should().BeNull();
        copy.Scan(null, null).Should().HaveCount(3000);
        copy.Get(B("k01234")).Should().Equal(B("v1234"));
    }

    [Fact]
    public void Stats_report_levels_bloom_and_cache_counters()
    {
        using var db = LsmEngine.Open(Dir, SmallOptions());
        for (int i = 0; i < 3000; i++)
            db.Put(B($"k{i:D5}"), B($"v{i}"));
        db.Flush();
        for (int i = 0; i < 3000; i++)
            db.Get(B($"k{i:D5}-absent")); // inside the tables' key ranges, so only the filter can rule them out
        var stats = db.GetStats();
        stats.Levels.Should().HaveCount(7);
        stats.BloomChecks.Should().BeGreaterThan(0);
        stats.BloomUseful.Should().BeGreaterThan(stats.BloomChecks / 2);
        stats.WriteAmplification.Should().BeGreaterThan(1);
        stats.Flushes.Should().BeGreaterThan(0);
    }
}
