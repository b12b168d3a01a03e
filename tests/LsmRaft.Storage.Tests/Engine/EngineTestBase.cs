using System.Text;
using LsmRaft.Storage.Format;
using LsmRaft.Storage.IO;

namespace LsmRaft.Storage.Tests.Engine;

/// <summary>Helpers shared by engine tests: an in-memory file system and small options that force flushes and compactions.</summary>
public abstract class EngineTestBase
{
    protected const string Dir = "/db";

    /// <summary>Environment variable that adds one seed to every randomized engine test, to replay a reported failure.</summary>
    protected const string SeedVariable = "LSMRAFT_SEED";

    protected MemoryFileSystem Fs { get; } = CreateFs();

    protected static MemoryFileSystem CreateFs()
    {
        var fs = new MemoryFileSystem();
        fs.CreateDirectory("/");
        return fs;
    }

    /// <summary>Tiny memtables and tables so a few thousand writes exercise flush and every level.</summary>
    protected LsmOptions SmallOptions(IFileSystem? fs = null) => new()
    {
        FileSystem = fs ?? Fs,
        FlushThresholdBytes = 64 * 1024,
        TargetFileSizeBytes = 64 * 1024,
        MaxBytesForLevelBase = 1024 * 1024,
        Level0CompactionTrigger = 2,
        BlockSize = 1024,
        Sync = SyncMode.None,
        CompactionLimiter = new CompactionLimiter(1),
    };

    protected static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    protected static string S(byte[]? b) => b is null ? "<null>" : Encoding.UTF8.GetString(b);

    /// <summary>A new model map ordered like the engine (unsigned byte-wise).</summary>
    protected static SortedDictionary<byte[], byte[]> NewModel() => new(ByteKeyComparer.Instance);

    protected static SortedDictionary<byte[], byte[]> CopyModel(SortedDictionary<byte[], byte[]> model) =>
        new(model, ByteKeyComparer.Instance);

    /// <summary>Theory rows: the fixed seeds, plus <c>LSMRAFT_SEED</c> when it is set (and not already among them).</summary>
    protected static IEnumerable<object[]> SeedRows(IEnumerable<int> fixedSeeds)
    {
        var seeds = fixedSeeds.ToList();
        if (EnvironmentSeed() is int extra && !seeds.Contains(extra))
            seeds.Add(extra);
        return seeds.Select(s => new object[] { s });
    }

    protected static int? EnvironmentSeed()
    {
        string? text = Environment.GetEnvironmentVariable(SeedVariable);
        if (string.IsNullOrWhiteSpace(text))
            return null;
        if (!int.TryParse(text.Trim(), out int seed))
            throw new InvalidOperationException($"{SeedVariable}='{text}' is not an integer seed.");
        return seed;
    }

    /// <summary>How to rerun one seed of a randomized test; included in every failure message.</summary>
    protected static string ReplayHint(int seed, string testFilter) =>
        $"replay with: {SeedVariable}={seed} dotnet test tests/LsmRaft.Storage.Tests -c Release --filter \"FullyQualifiedName~{testFilter}\"";

    protected static string Hex(ReadOnlySpan<byte> bytes) =>
        bytes.Length <= 24 ? "0x" + Convert.ToHexString(bytes) : $"0x{Convert.ToHexString(bytes[..24])}…({bytes.Length} bytes)";

    /// <summary>Null when <paramref name="actual"/> (a full scan) equals <paramref name="expected"/>; otherwise the first difference.</summary>
    protected static string? FirstDifference(SortedDictionary<byte[], byte[]> expected, IReadOnlyList<KeyValuePair<byte[], byte[]>> actual)
    {
        int i = 0;
        foreach (var (key, value) in expected)
        {
            if (i >= actual.Count)
                return $"engine ends after {actual.Count} entries; model continues with key {Hex(key)}";
            var got = actual[i];
            if (!got.Key.AsSpan().SequenceEqual(key))
                return $"entry {i}: engine has key {Hex(got.Key)}, model has key {Hex(key)}";
            if (!got.Value.AsSpan().SequenceEqual(value))
                return $"entry {i} key {Hex(key)}: engine value {Hex(got.Value)}, model value {Hex(value)}";
            i++;
        }
        if (i < actual.Count)
            return $"engine has {actual.Count - i} extra entries from key {Hex(actual[i].Key)}";
        return null;
    }

    protected static bool SameState(SortedDictionary<byte[], byte[]> expected, IReadOnlyList<KeyValuePair<byte[], byte[]>> actual) =>
        FirstDifference(expected, actual) is null;
}

/// <summary>A randomized engine test disagreed with its model; the message carries the seed and how to replay it.</summary>
internal sealed class ModelMismatchException : Exception
{
    public ModelMismatchException(string message, Exception? inner = null) : base(message, inner) { }
}
