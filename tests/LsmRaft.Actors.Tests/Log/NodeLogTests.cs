using LsmRaft.Actors.Log;
using LsmRaft.Raft;
using LsmRaft.Storage;
using LsmRaft.Storage.IO;

namespace LsmRaft.Actors.Tests.Log;

public sealed class NodeLogTests
{
    private const string Dir = "node/raftlog";

    internal static Entry E(ulong term, ulong index, string data = "", EntryType type = EntryType.Normal) =>
        new(term, index, type, System.Text.Encoding.UTF8.GetBytes(data));

    internal static string Describe(IEnumerable<Entry> entries) =>
        string.Join(",", entries.Select(e => $"{e.Index}@{e.Term}/{e.Type}/{Convert.ToHexString(e.Data)}"));

    [Fact]
    public async Task Entries_and_hard_states_of_several_groups_round_trip_and_survive_a_clean_reopen()
    {
        string root = Path.Combine(Path.GetTempPath(), "lsmraft-nodelog-" + Guid.NewGuid().ToString("N"));
        try
        {
            var fs = new PhysicalFileSystem();
            var options = new NodeLogOptions { SegmentSize = 4096 };
            var expected = new Dictionary<ulong, List<Entry>>();
            await using (var log = NodeLog.Open(fs, root, options))
            {
                for (ulong i = 1; i <= 50; i++)
                {
                    foreach (ulong group in new ulong[] { 3, 900, ulong.MaxValue })
                    {
                        var entry = E(i / 10 + 1, i, $"g{group}-e{i}-" + new string('x', (int)(i * 7 % 100)), i % 9 == 0 ? EntryType.ConfChange : EntryType.Normal);
                        await log.AppendAsync(group, [entry], new HardState(i / 10 + 1, group % 5, i - 1), CancellationToken.None);
                        (expected.TryGetValue(group, out var list) ? list : expected[group] = []).Add(entry);
                    }
                }
                log.ReadEntries(3, 1, 51).Should().BeEquivalentTo(expected[3], o => o.WithStrictOrdering());
            }
            fs.ListFiles(root).Count(n => n.EndsWith(".rlog")).Should().BeGreaterThan(2, "small segments force rotation");

            await using (var log = NodeLog.Open(fs, root, options))
            {
                log.Groups.Should().BeEquivalentTo(new ulong[] { 3, 900, ulong.MaxValue });
                foreach (var (group, entries) in expected)
                {
                    log.FirstIndex(group).Should().Be(1);
                    log.LastIndex(group).Should().Be(50);
                    Describe(log.ReadEntries(group, 1, 51)).Should().Be(Describe(entries));
                    log.GetHardState(group).Should().Be(new HardState(6, group % 5, 49));
                    log.Term(group, 50).Should().Be(6);
                    log.Term(group, 51).Should().BeNull();
                }
            }
        }
        finally
        {
            if (Directory.Exists(root))
                Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task Overwriting_a_conflicting_suffix_drops_it_and_the_drop_survives_reopen()
    {
        var fs = new MemoryFileSystem();
        await using (var log = NodeLog.Open(fs, Dir, new NodeLogOptions()))
        {
            await log.AppendAsync(1, [E(1, 1, "a"), E(1, 2, "b"), E(1, 3, "c"), E(1, 4, "d")], null, default);
            await log.AppendAsync(1, [E(2, 3, "C")], new HardState(2, 0, 2), default);
            log.LastIndex(1).Should().Be(3);
            Describe(log.ReadEntries(1, 1, 4)).Should().Be(Describe([E(1, 1, "a"), E(1, 2, "b"), E(2, 3, "C")]));
        }
        await using (var log = NodeLog.Open(fs, Dir, new NodeLogOptions()))
        {
            log.LastIndex(1).Should().Be(3, "index 4 was dropped with the conflicting suffix");
            log.Term(1, 3).Should().Be(2);
            Describe(log.ReadEntries(1, 1, 4)).Should().Be(Describe([E(1, 1, "a"), E(1, 2, "b"), E(2, 3, "C")]));
            log.GetHardState(1).Should().Be(new HardState(2, 0, 2));
        }
    }

    [Fact]
    public async Task Appends_that_leave_a_gap_or_rewrite_the_compacted_prefix_are_rejected()
    {
        await using var log = NodeLog.Open(new MemoryFileSystem(), Dir, new NodeLogOptions());
        await FluentActions.Awaiting(async () => await log.AppendAsync(1, [E(1, 2)], null, default)).Should().ThrowAsync<ArgumentException>();
        await log.AppendAsync(1, [E(1, 1), E(1, 2), E(1, 3)], null, default);
        await log.CompactAsync(1, 2, default);
        await FluentActions.Awaiting(async () => await log.AppendAsync(1, [E(2, 2)], null, default)).Should().ThrowAsync<ArgumentException>();
        FluentActions.Invoking(() => log.AppendAsync(1, [E(2, 4), E(2, 6)], null, default)).Should().Throw<ArgumentException>();
        await log.AppendAsync(1, [E(2, 4)], null, default);
        log.LastIndex(1).Should().Be(4);
    }

    [Fact]
    public async Task Compaction_deletes_segments_no_group_needs_and_keeps_state_across_reopen()
    {
        var fs = new MemoryFileSystem();
        var options = new NodeLogOptions { SegmentSize = 1024 };
        string payload = new('p', 200);
        await using (var log = NodeLog.Open(fs, Dir, options))
        {
            for (ulong i = 1; i <= 40; i++)
            {
                await log.AppendAsync(1, [E(1, i, payload)], new HardState(1, 1, i), default);
                if (i <= 5)
                    await log.AppendAsync(2, [E(4, i, payload)], new HardState(4, 2, i), default);
            }
            int before = Segments(fs);
            await log.CompactAsync(1, 35, default);
            Segments(fs).Should().Be(before, "group 2 still needs the first segment");
            log.Term(1, 35).Should().Be(1);

            await log.CompactAsync(2, 5, default);
            Segments(fs).Should().BeLessThan(before - 3);
            log.FirstIndex(1).Should().Be(36);
            FluentActions.Invoking(() => log.ReadEntries(1, 35, 36)).Should().Throw<LogCompactedException>();
        }
        await using (var log = NodeLog.Open(fs, Dir, options))
        {
            log.FirstIndex(1).Should().Be(36);
            log.LastIndex(1).Should().Be(40);
            log.FirstIndex(2).Should().Be(6);
            log.LastIndex(2).Should().Be(5);
            log.GetHardState(1).Should().Be(new HardState(1, 1, 40));
            log.GetHardState(2).Should().Be(new HardState(4, 2, 5), "hard states are re-logged before their segment is deleted");
            Describe(log.ReadEntries(1, 36, 41)).Should().Be(Describe(Enumerable.Range(36, 5).Select(i => E(1, (ulong)i, payload))));
            await log.AppendAsync(2, [E(5, 6, "next")], null, default);
            log.LastIndex(2).Should().Be(6);
        }
    }

    [Fact]
    public async Task Forgetting_a_group_restarts_its_log_from_index_1_keeps_term_and_vote_and_survives_reopen_and_segment_deletion()
    {
        var fs = new MemoryFileSystem();
        var options = new NodeLogOptions { SegmentSize = 1024 };
        string payload = new('p', 200);
        await using (var log = NodeLog.Open(fs, Dir, options))
        {
            for (ulong i = 1; i <= 12; i++)
                await log.AppendAsync(7, [E(3, i, payload)], new HardState(3, 2, i), default);
            await log.CompactAsync(7, 10, default);
            await log.AppendAsync(8, [E(1, 1, "other")], new HardState(1, 1, 1), default);
            log.ForgetAsync(99, default).IsCompletedSuccessfully.Should().BeTrue("a group the log does not hold is left alone");
            log.Holds(99).Should().BeFalse();

            await log.ForgetAsync(7, default);
            log.Holds(7).Should().BeTrue("term and vote stay");
            log.FirstIndex(7).Should().Be(1);
            log.LastIndex(7).Should().Be(0);
            log.GetHardState(7).Should().Be(new HardState(3, 2, 0));
            log.ReadEntries(7, 1, 1).Should().BeEmpty();
            await FluentActions.Awaiting(async () => await log.AppendAsync(7, [E(4, 2)], null, default)).Should().ThrowAsync<ArgumentException>("the restarted log begins at index 1");
            await log.AppendAsync(7, [E(4, 1, "again")], new HardState(4, 0, 0), default);
        }
        await using (var log = NodeLog.Open(fs, Dir, options))
        {
            log.FirstIndex(7).Should().Be(1, "the Forget record is replayed after the older entries and compaction point");
            log.LastIndex(7).Should().Be(1);
            Describe(log.ReadEntries(7, 1, 2)).Should().Be(Describe([E(4, 1, "again")]));
            log.GetHardState(7).Should().Be(new HardState(4, 0, 0));
            Describe(log.ReadEntries(8, 1, 2)).Should().Be(Describe([E(1, 1, "other")]));

            // Group 8 moves on and compacts: the segments holding group 7's old entries and its Forget record are
            // deleted, and what remains still describes both groups.
            for (ulong i = 2; i <= 20; i++)
                await log.AppendAsync(8, [E(1, i, payload)], new HardState(1, 1, i), default);
            int before = Segments(fs);
            await log.CompactAsync(7, 1, default);
            await log.CompactAsync(8, 20, default);
            Segments(fs).Should().BeLessThan(before - 3, "no group needs the older segments");
        }
        await using (var log = NodeLog.Open(fs, Dir, options))
        {
            log.FirstIndex(7).Should().Be(2);
            log.LastIndex(7).Should().Be(1);
            log.GetHardState(7).Should().Be(new HardState(4, 0, 0));
            log.FirstIndex(8).Should().Be(21);
        }
    }

    [Fact]
    public async Task Reads_past_the_cache_come_from_segment_files_and_respect_max_bytes()
    {
        var fs = new MemoryFileSystem();
        await using var log = NodeLog.Open(fs, Dir, new NodeLogOptions { CacheBytes = 0, SegmentSize = 2048 });
        var entries = Enumerable.Range(1, 30).Select(i => E((ulong)i, (ulong)i, new string((char)('a' + i % 26), 100))).ToList();
        await log.AppendAsync(9, entries, null, default);
        await log.AppendAsync(9, [E(31, 31, "tail")], null, default);
        Describe(log.ReadEntries(9, 1, 32)).Should().Be(Describe(entries.Append(E(31, 31, "tail"))));
        log.ReadEntries(9, 1, 32, maxBytes: 3 * 113).Should().HaveCount(3);
        log.ReadEntries(9, 5, 32, maxBytes: 1).Should().ContainSingle().Which.Index.Should().Be(5);
        FluentActions.Invoking(() => log.ReadEntries(9, 1, 33)).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public async Task Concurrent_appenders_share_fsyncs_through_group_commit()
    {
        var fs = new MemoryFileSystem();
        await using var log = NodeLog.Open(fs, Dir, new NodeLogOptions());
        const int appenders = 64, rounds = 4;
        long baseline = log.SyncCount;
        for (int round = 1; round <= rounds; round++)
        {
            // Hold the writer inside its first write of the round until every appender has enqueued:
            // whatever it had taken is one batch, everything else must form the next one.
            using var gate = new ManualResetEventSlim(false);
            int armed = 1;
            fs.BeforeWrite = _ =>
            {
                if (Interlocked.Exchange(ref armed, 0) == 1)
                    gate.Wait();
            };
            using var enqueued = new CountdownEvent(appenders);
            ulong index = (ulong)round;
            var tasks = Enumerable.Range(0, appenders).Select(a => Task.Run(async () =>
            {
                var append = log.AppendAsync((ulong)a, [E(index, index, $"{a}:{index}")], new HardState(index, (ulong)a, index), default);
                enqueued.Signal();
                await append;
            })).ToArray();
            enqueued.Wait();
            gate.Set();
            await Task.WhenAll(tasks);
            fs.BeforeWrite = null;
        }

        long syncs = log.SyncCount - baseline;
        syncs.Should().BeLessThanOrEqualTo(2 * rounds).And.BeLessThan(appenders * rounds / 4);
        for (ulong a = 0; a < appenders; a++)
        {
            log.LastIndex(a).Should().Be(rounds);
            log.GetHardState(a).Should().Be(new HardState(rounds, a, rounds));
            Describe(log.ReadEntries(a, 1, rounds + 1)).Should().Be(Describe(Enumerable.Range(1, rounds).Select(i => E((ulong)i, (ulong)i, $"{a}:{i}"))));
        }
    }

    [Fact]
    public async Task An_append_cancelled_before_the_writer_takes_it_is_not_written()
    {
        var fs = new MemoryFileSystem();
        await using var log = NodeLog.Open(fs, Dir, new NodeLogOptions());
        using var gate = new ManualResetEventSlim(false);
        using var blocked = new ManualResetEventSlim(false);
        fs.BeforeWrite = _ =>
        {
            blocked.Set();
            gate.Wait();
        };
        var first = log.AppendAsync(1, [E(1, 1, "kept")], null, default).AsTask();
        blocked.Wait();
        using var cts = new CancellationTokenSource();
        var second = log.AppendAsync(1, [E(1, 2, "withdrawn")], null, cts.Token).AsTask();
        cts.Cancel();
        gate.Set();
        fs.BeforeWrite = null;
        await first;
        await FluentActions.Awaiting(() => second).Should().ThrowAsync<OperationCanceledException>();
        await log.AppendAsync(2, [E(1, 1)], null, default); // a later batch has drained the queue
        log.LastIndex(1).Should().Be(1);
    }

    [Fact]
    public async Task Corruption_in_an_older_segment_throws_CorruptionException_naming_the_file()
    {
        var fs = new MemoryFileSystem();
        await using (var log = NodeLog.Open(fs, Dir, new NodeLogOptions { SegmentSize = 1024 }))
        {
            for (ulong i = 1; i <= 20; i++)
                await log.AppendAsync(1, [E(1, i, new string('z', 150))], null, default);
        }
        fs.FlipBit(Dir + "/000001.rlog", 200, 3);
        var open = () => NodeLog.Open(fs, Dir, new NodeLogOptions { SegmentSize = 1024 });
        open.Should().Throw<CorruptionException>().Which.File.Should().EndWith("000001.rlog");
    }

    [Fact]
    public async Task Corruption_followed_by_valid_records_in_the_last_segment_is_not_mistaken_for_a_torn_tail()
    {
        var fs = new MemoryFileSystem();
        var log = NodeLog.Open(fs, Dir, new NodeLogOptions());
        for (ulong i = 1; i <= 5; i++)
            await log.AppendAsync(1, [E(1, i, "synced record " + i)], null, default);
        fs.FlipBit(Dir + "/000001.rlog", 40, 1); // inside the first record
        fs.Crash(new Random(1));
        fs.BeforeWrite = _ => throw new IOException("the process died with the machine");
        await log.DisposeAsync();
        fs.BeforeWrite = null;

        var open = () => NodeLog.Open(fs, Dir, new NodeLogOptions());
        open.Should().Throw<CorruptionException>().Which.Message.Should().Contain("000001.rlog");
    }

    private static int Segments(MemoryFileSystem fs) => fs.ListFiles(Dir).Count(n => n.EndsWith(".rlog"));
}
