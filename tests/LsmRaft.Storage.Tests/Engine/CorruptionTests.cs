using LsmRaft.Storage.Table;

namespace LsmRaft.Storage.Tests.Engine;

/// <summary>
/// Damage to a closed database's files, one bit at a time. Every damaged byte that is checksummed must
/// surface as a <see cref="CorruptionException"/> naming the damaged file, at open or at the first read
/// that needs it; a read never returns wrong data silently. A damaged last WAL record is the one exception
/// by design: it is indistinguishable from a torn write, so it is dropped like one.
/// </summary>
public sealed class CorruptionTests : EngineTestBase
{
    private const int TableKeys = 3000;
    private const int WalKeys = 200;

    /// <summary>Which part of a table a bit flip lands in.</summary>
    public enum TableRegion
    {
        FirstDataBlock,
        LastDataBlock,
        FilterBlock,
        IndexBlock,
        FooterHandles,
        FooterMagic,
    }

    [Theory]
    [InlineData(TableRegion.FirstDataBlock)]
    [InlineData(TableRegion.LastDataBlock)]
    [InlineData(TableRegion.FilterBlock)]
    [InlineData(TableRegion.IndexBlock)]
    [InlineData(TableRegion.FooterHandles)]
    [InlineData(TableRegion.FooterMagic)]
    public void A_flipped_bit_in_a_table_is_reported_as_corruption_of_that_table(TableRegion region)
    {
        var model = BuildClosedDatabase();
        var table = Tables().OrderByDescending(t => Fs.GetLength(Path(t))).First();
        Fs.FlipBit(Path(table), OffsetIn(table, region), bit: 3);

        int failures = ReadEverything(model, table);
        failures.Should().BeGreaterThan(0, $"reads of the keys in {table} must notice the flipped bit in its {region}");
    }

    [Fact]
    public void A_flipped_bit_in_a_wal_record_followed_by_valid_records_fails_the_open_naming_the_wal()
    {
        BuildClosedDatabase();
        var wal = CurrentWal();
        long length = Fs.GetLength(Path(wal));
        Fs.FlipBit(Path(wal), length / 2);

        var act = () => LsmEngine.Open(Dir, SmallOptions());
        act.Should().Throw<CorruptionException>().Which.File.Should().Be(wal);
    }

    [Fact]
    public void A_flipped_bit_in_the_last_wal_record_is_a_torn_tail_and_earlier_records_survive()
    {
        var model = BuildClosedDatabase();
        var wal = CurrentWal();
        Fs.FlipBit(Path(wal), Fs.GetLength(Path(wal)) - 1);

        using var db = LsmEngine.Open(Dir, SmallOptions());
        var lastKey = WalKey(WalKeys - 1);
        db.Get(lastKey).Should().BeNull("the damaged last record is dropped like a torn write");
        model.Remove(lastKey);
        FirstDifference(model, db.Scan(null, null)).Should().BeNull("every earlier record and every table is intact");
    }

    [Fact]
    public void A_flipped_bit_in_the_wal_file_header_fails_the_open_naming_the_wal()
    {
        BuildClosedDatabase();
        var wal = CurrentWal();
        Fs.FlipBit(Path(wal), 9); // inside the magic of the header record

        var act = () => LsmEngine.Open(Dir, SmallOptions());
        act.Should().Throw<CorruptionException>().Which.File.Should().Be(wal);
    }

    [Fact]
    public void A_flipped_bit_in_the_manifest_before_its_last_edit_fails_the_open_naming_the_manifest()
    {
        BuildClosedDatabase();
        var manifest = Manifest();
        // The file header record is 7 + 12 bytes; the next record (the snapshot edit) is followed by the session's edits.
        Fs.FlipBit(Path(manifest), 19 + 7 + 3);

        var act = () => LsmEngine.Open(Dir, SmallOptions());
        act.Should().Throw<CorruptionException>().Which.File.Should().Be(manifest);
    }

    [Fact]
    public void A_flipped_bit_in_the_manifest_header_fails_the_open_naming_the_manifest()
    {
        BuildClosedDatabase();
        var manifest = Manifest();
        Fs.FlipBit(Path(manifest), 9);

        var act = () => LsmEngine.Open(Dir, SmallOptions());
        act.Should().Throw<CorruptionException>().Which.File.Should().Be(manifest);
    }

    [Fact]
    public void A_flipped_bit_in_the_last_manifest_edit_never_yields_wrong_data()
    {
        var model = BuildClosedDatabase();
        var manifest = Manifest();
        Fs.FlipBit(Path(manifest), Fs.GetLength(Path(manifest)) - 1);

        LsmEngine db;
        try
        {
            db = LsmEngine.Open(Dir, SmallOptions());
        }
        catch (CorruptionException e)
        {
            e.File.Should().Be(manifest);
            return;
        }
        using (db)
            ReadEverything(model, damagedFile: null, db);
    }

    [Theory]
    [MemberData(nameof(CurrentOffsets))]
    public void A_flipped_bit_in_current_fails_the_open_with_an_error_naming_current(int offset)
    {
        BuildClosedDatabase();
        var current = Path("CURRENT");
        if (offset >= Fs.GetLength(current))
            return; // CURRENT is shorter for this manifest number; nothing to damage at this offset
        Fs.FlipBit(current, offset);

        var act = () => LsmEngine.Open(Dir, SmallOptions());
        act.Should().Throw<CorruptionException>().Which.File.Should().Be("CURRENT");
    }

    /// <summary>CURRENT holds "MANIFEST-nnnnnn\n": 16 bytes.</summary>
    public static IEnumerable<object[]> CurrentOffsets => Enumerable.Range(0, 16).Select(i => new object[] { i });

    [Fact]
    public void A_truncated_table_is_reported_as_corruption_of_that_table()
    {
        var model = BuildClosedDatabase();
        var table = Tables().OrderByDescending(t => Fs.GetLength(Path(t))).First();
        var bytes = ReadAll(Path(table));
        using (var file = Fs.Create(Path(table)))
        {
            file.Append(bytes.AsSpan(0, bytes.Length / 2));
            file.Sync();
        }

        int failures = ReadEverything(model, table);
        failures.Should().BeGreaterThan(0, $"reads of the keys in {table} must notice it lost its second half");
    }

    [Fact]
    public void A_table_listed_in_the_manifest_but_missing_is_reported_as_corruption_naming_it()
    {
        var model = BuildClosedDatabase();
        var table = Tables().First();
        Fs.Delete(Path(table));

        int failures = ReadEverything(model, table);
        failures.Should().BeGreaterThan(0, $"the keys of the missing {table} cannot be read");
    }

    [Fact]
    public void An_unreferenced_garbage_table_is_ignored()
    {
        var model = BuildClosedDatabase();
        WriteFile("999999.sst", Garbage(5000));

        using var db = LsmEngine.Open(Dir, SmallOptions());
        FirstDifference(model, db.Scan(null, null)).Should().BeNull();
    }

    [Fact]
    public void Garbage_in_current_fails_the_open_naming_current()
    {
        WriteFile("CURRENT", Garbage(40));

        var act = () => LsmEngine.Open(Dir, SmallOptions());
        act.Should().Throw<CorruptionException>().Which.File.Should().Be("CURRENT");
    }

    [Fact]
    public void Tables_without_current_fail_the_open_instead_of_starting_an_empty_database()
    {
        WriteFile("000007.sst", Garbage(5000));

        var act = () => LsmEngine.Open(Dir, SmallOptions());
        act.Should().Throw<CorruptionException>().Which.File.Should().Be("CURRENT");
    }

    [Fact]
    public void A_garbage_wal_fails_the_open_naming_it()
    {
        WriteFile("000009.log", Garbage(5000));

        var act = () => LsmEngine.Open(Dir, SmallOptions());
        act.Should().Throw<CorruptionException>().Which.File.Should().Be("000009.log");
    }

    [Fact]
    public void A_garbage_manifest_named_by_current_fails_the_open_naming_it()
    {
        WriteFile("MANIFEST-000004", Garbage(5000));
        WriteFile("CURRENT", B("MANIFEST-000004\n"));

        var act = () => LsmEngine.Open(Dir, SmallOptions());
        act.Should().Throw<CorruptionException>().Which.File.Should().Be("MANIFEST-000004");
    }

    /// <summary>
    /// Writes <see cref="TableKeys"/> keys and compacts them into tables (so a reopen starts no compaction
    /// and each key lives in exactly one table), then <see cref="WalKeys"/> more that stay in the WAL, one
    /// record each, and closes. Returns the contents.
    /// </summary>
    private SortedDictionary<byte[], byte[]> BuildClosedDatabase()
    {
        var model = NewModel();
        using var db = LsmEngine.Open(Dir, SmallOptions());
        for (int i = 0; i < TableKeys; i++)
        {
            var key = B($"key{i:D5}");
            var value = B($"value-{i}-{new string((char)('a' + i % 26), i % 50)}");
            db.Put(key, value);
            model[key] = value;
        }
        db.CompactRange();
        for (int i = 0; i < WalKeys; i++)
        {
            var value = B($"wal-value-{i}");
            db.Put(WalKey(i), value);
            model[WalKey(i)] = value;
        }
        return model;
    }

    private static byte[] WalKey(int i) => B($"wal{i:D4}");

    /// <summary>
    /// Opens the database (unless <paramref name="db"/> is given) and reads every key by Get and everything by
    /// a scan. Each read must return the model's data or throw a <see cref="CorruptionException"/> naming
    /// <paramref name="damagedFile"/>; an open that fails must fail the same way. Returns how many reads (or the open) failed.
    /// </summary>
    private int ReadEverything(SortedDictionary<byte[], byte[]> model, string? damagedFile, LsmEngine? db = null)
    {
        if (db is null)
        {
            try
            {
                db = LsmEngine.Open(Dir, SmallOptions());
            }
            catch (Exception e)
            {
                CheckCorruption(e, damagedFile, "Open");
                return 1;
            }
            using (db)
                return ReadEverything(model, damagedFile, db);
        }

        int failures = 0;
        foreach (var (key, expected) in model)
        {
            byte[]? actual;
            try
            {
                actual = db.Get(key);
            }
            catch (Exception e)
            {
                CheckCorruption(e, damagedFile, $"Get({S(key)})");
                failures++;
                continue;
            }
            actual.Should().Equal(expected, $"Get({S(key)}) must return the stored value or throw, never something else");
        }
        try
        {
            FirstDifference(model, db.Scan(null, null)).Should().BeNull("a scan must return the stored data or throw");
        }
        catch (Exception e) when (e is not Xunit.Sdk.XunitException)
        {
            CheckCorruption(e, damagedFile, "Scan");
            failures++;
        }
        return failures;
    }

    private static void CheckCorruption(Exception e, string? damagedFile, string operation)
    {
        e.Should().BeOfType<CorruptionException>($"{operation} met damaged data and must say so with a typed error (got: {e.GetType().Name}: {e.Message})");
        if (damagedFile is not null)
            ((CorruptionException)e).File.Should().Be(damagedFile, $"{operation} must name the damaged file");
    }

    /// <summary>An offset inside <paramref name="region"/> of <paramref name="table"/>, found from its footer.</summary>
    private long OffsetIn(string table, TableRegion region)
    {
        var bytes = ReadAll(Path(table));
        long footerOffset = bytes.Length - Footer.Size;
        var footer = Footer.Decode(bytes.AsSpan((int)footerOffset), table, footerOffset);
        return region switch
        {
            TableRegion.FirstDataBlock => 5,
            TableRegion.LastDataBlock => footer.Filter.Offset - TableFormat.BlockTrailerSize - 10,
            TableRegion.FilterBlock => footer.Filter.Offset + footer.Filter.Size / 2,
            TableRegion.IndexBlock => footer.Index.Offset + footer.Index.Size / 2,
            TableRegion.FooterHandles => footerOffset + 1,
            TableRegion.FooterMagic => bytes.Length - 3,
            _ => throw new ArgumentOutOfRangeException(nameof(region)),
        };
    }

    private IEnumerable<string> Tables() => Fs.ListFiles(Dir).Where(n => n.EndsWith(".sst", StringComparison.Ordinal));

    private string CurrentWal() => Fs.ListFiles(Dir).Where(n => n.EndsWith(".log", StringComparison.Ordinal)).Max()!;

    private string Manifest() => Fs.ListFiles(Dir).Single(n => n.StartsWith("MANIFEST-", StringComparison.Ordinal));

    private static string Path(string name) => $"{Dir}/{name}";

    private byte[] ReadAll(string path)
    {
        using var file = Fs.OpenRead(path);
        var bytes = new byte[file.Length];
        file.Read(0, bytes).Should().Be(bytes.Length);
        return bytes;
    }

    private void WriteFile(string name, byte[] contents)
    {
        Fs.CreateDirectory(Dir);
        using var file = Fs.Create(Path(name));
        file.Append(contents);
        file.Sync();
    }

    private static byte[] Garbage(int length)
    {
        var bytes = new byte[length];
        new Random(length).NextBytes(bytes);
        return bytes;
    }
}
