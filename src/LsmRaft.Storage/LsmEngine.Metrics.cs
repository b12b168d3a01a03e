using LsmRaft.Storage.Cache;
using LsmRaft.Storage.Versions;

namespace LsmRaft.Storage;

/// <summary>What <see cref="StorageMetrics"/> observes of an engine.</summary>
public sealed partial class LsmEngine
{
    internal EngineCounters Counters => _counters;

    internal BlockCache Cache => _blockCache;

    /// <summary>Bytes in the active and immutable memtables.</summary>
    internal long MemtableBytes()
    {
        var sv = AcquireSuperVersion();
        try
        {
            long bytes = sv.Mem.ApproximateBytes;
            foreach (var immutable in sv.Immutables)
                bytes += immutable.ApproximateBytes;
            return bytes;
        }
        finally
        {
            sv.Unref();
        }
    }

    /// <summary>Adds each level's bytes (or file count) to <paramref name="totals"/>; returns the number of levels.</summary>
    internal int AddLevelShape(long[] totals, bool files)
    {
        var sv = AcquireSuperVersion();
        try
        {
            var version = sv.Version;
            int levels = Math.Min(version.NumLevels, totals.Length);
            for (int level = 0; level < levels; level++)
                totals[level] += files ? version.Levels[level].Length : version.LevelBytes(level);
            return levels;
        }
        finally
        {
            sv.Unref();
        }
    }
}
