using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using LsmRaft.Storage.IO;
using LsmRaft.Storage.Wal;

namespace LsmRaft.Storage.Tests.Wal;

/// <summary>Helpers shared by the log and manifest tests: building, reading and doctoring log files.</summary>
internal static class LogTestFiles
{
    public const string DatabaseDirectory = "db";
    public const string LogPath = "db/000001.log";

    public static MemoryFileSystem NewFileSystem()
    {
        var fs = new MemoryFileSystem();
        fs.CreateDirectory(DatabaseDirectory);
        return fs;
    }

    /// <summary>Deterministic payload: bytes of a seeded random stream (no embedded log structure).</summary>
    public static byte[] Payload(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    public static byte[] WriteLog(MemoryFileSystem fs, string path, IEnumerable<byte[]> records)
    {
        using (var writer = new LogWriter(fs.Create(path)))
        {
            foreach (var record in records)
                writer.AddRecord(record);
            writer.Sync();
        }
        return ReadAll(fs, path);
    }

    public static byte[] ReadAll(IFileSystem fs, string path)
    {
        using var file = fs.OpenRead(path);
        var bytes = new byte[file.Length];
        file.Read(0, bytes).Should().Be(bytes.Length);
        return bytes;
    }

    public static void WriteFile(IFileSystem fs, string path, ReadOnlySpan<byte> bytes)
    {
        using var file = fs.Create(path);
        file.Append(bytes);
        file.Sync();
    }

    public sealed record ReadResult(List<byte[]> Records, bool TornTail, long ValidLength);

    /// <summary>Reads every record (copied, since the reader reuses its buffers).</summary>
    public static ReadResult ReadLog(IFileSystem fs, string path)
    {
        using var reader = new LogReader(fs.OpenRead(path), path);
        var records = new List<byte[]>();
        while (reader.TryReadRecord(out var record))
            records.Add(record.ToArray());
        return new ReadResult(records, reader.TornTail, reader.ValidLength);
    }

    /// <summary>A hand-made fragment (header + payload) with a correct checksum, for framing tests.</summary>
    public static byte[] Fragment(FragmentType type, ReadOnlySpan<byte> payload)
    {
        var bytes = new byte[LogFormat.HeaderSize + payload.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, LogFormat.FragmentChecksum(type, payload));
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(4), (ushort)payload.Length);
        bytes[6] = (byte)type;
        payload.CopyTo(bytes.AsSpan(LogFormat.HeaderSize));
        return bytes;
    }

    /// <summary>The bytes a fresh LogWriter writes before any record: the file header record.</summary>
    public static byte[] HeaderOnly()
    {
        var fs = NewFileSystem();
        return WriteLog(fs, LogPath, []);
    }

    /// <summary>
    /// Compares <paramref name="actual"/> with the golden file <paramref name="name"/> copied to the test
    /// output. With LSMRAFT_UPDATE_GOLDEN=1 it rewrites the file in the source tree instead.
    /// </summary>
    public static void AssertMatchesGolden(string name, byte[] actual, [CallerFilePath] string callerPath = "")
    {
        if (Environment.GetEnvironmentVariable("LSMRAFT_UPDATE_GOLDEN") == "1")
        {
            string sourceGolden = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(callerPath)!, "..", "Golden", name));
            File.WriteAllBytes(sourceGolden, actual);
            return;
        }
        string path = Path.Combine(AppContext.BaseDirectory, "Golden", name);
        File.Exists(path).Should().BeTrue($"the golden file {name} must exist (regenerate with LSMRAFT_UPDATE_GOLDEN=1)");
        var expected = File.ReadAllBytes(path);
        int firstDifference = FirstDifference(expected, actual);
        firstDifference.Should().Be(-1,
            $"the output must be byte-identical to Golden/{name} ({expected.Length} bytes, actual {actual.Length}); " +
            "a format change needs a new version and a new golden file");
    }

    private static int FirstDifference(byte[] a, byte[] b)
    {
        int common = Math.Min(a.Length, b.Length);
        for (int i = 0; i < common; i++)
            if (a[i] != b[i])
                return i;
        return a.Length == b.Length ? -1 : common;
    }
}
