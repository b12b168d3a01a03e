using System.Text;
using LsmRaft.Storage.IO;

namespace LsmRaft.Storage.Tests.Engine;

/// <summary>Helpers shared by engine tests: an in-memory file system and small options that force flushes and compactions.</summary>
public abstract class EngineTestBase
{
    protected const string Dir = "/db";

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
}
