namespace LsmRaft.Storage.Tests.Engine;

/// <summary>
/// A read without a snapshot takes its super version and its sequence in a fixed order (LsmEngine.AcquireReadView).
/// These tests run a newer write, a flush and a full compaction between the two steps, the window in which the
/// other order lost the key: the compaction drops the older version no snapshot protects, and the read then
/// finds only the newer one, invisible at the sequence it had already read.
/// </summary>
public sealed class ReadViewTests : EngineTestBase
{
    [Fact]
    public void A_get_racing_an_overwrite_flush_and_compaction_finds_the_key()
    {
        using var db = OpenWithTableHolding("k", "v1");
        OverwriteFlushAndCompactDuringNextRead(db, "k", "v2");
        S(db.Get(B("k"))).Should().Be("v2", "the key was never absent");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_scan_racing_an_overwrite_flush_and_compaction_sees_every_key(bool reverse)
    {
        using var db = OpenWithTableHolding("k", "v1");
        OverwriteFlushAndCompactDuringNextRead(db, "k", "v2");
        var entries = db.Scan(null, null, reverse: reverse);
        entries.Select(e => S(e.Key) + "=" + S(e.Value)).Should().BeEquivalentTo(["a=x", "k=v2", "z=y"]);
    }

    private LsmEngine OpenWithTableHolding(string key, string value)
    {
        var db = LsmEngine.Open(Dir, SmallOptions());
        db.Put(B("a"), B("x"));
        db.Put(B(key), B(value));
        db.Put(B("z"), B("y"));
        db.Flush();
        db.CompactRange();
        return db;
    }

    private static void OverwriteFlushAndCompactDuringNextRead(LsmEngine db, string key, string value)
    {
        int fired = 0;
        db.BetweenReadViewSteps = () =>
        {
            if (Interlocked.Exchange(ref fired, 1) != 0)
                return;
            db.Put(B(key), B(value));
            db.Flush();
            db.CompactRange();
            db.GetStats().Compactions.Should().BeGreaterThan(0);
        };
    }
}
