using LsmRaft.Storage.Format;
using LsmRaft.Storage.Versions;

namespace LsmRaft.Storage.Compaction;

/// <summary>A chosen compaction: merge <see cref="Inputs"/> of <see cref="Level"/> with <see cref="Overlaps"/> of Level+1.</summary>
internal sealed record CompactionPlan(int Level, IReadOnlyList<FileMetadata> Inputs, IReadOnlyList<FileMetadata> Overlaps, bool IsManual)
{
    public int OutputLevel => Level + 1;

    /// <summary>One input, nothing to merge with below: the table can move down by a manifest edit alone.</summary>
    public bool IsTrivialMove => !IsManual && Inputs.Count == 1 && Overlaps.Count == 0 && Level > 0;

    public IEnumerable<FileMetadata> AllInputs => Inputs.Concat(Overlaps);
}

/// <summary>
/// Pure leveled-compaction policy (no I/O, no clock): scores each level by how far it exceeds its
/// budget — L0 by file count against <see cref="LsmOptions.Level0CompactionTrigger"/>, deeper levels
/// by bytes against <see cref="LsmOptions.MaxBytesForLevelBase"/> × multiplier^(level-1) — and
/// compacts the worst level whose score is ≥ 1. Within a level, tables are taken round-robin
/// after the level's compact pointer so every key range is rewritten in turn.
/// </summary>
internal static class CompactionPicker
{
    public static double MaxBytesForLevel(LsmOptions options, int level)
    {
        double bytes = options.MaxBytesForLevelBase;
        for (int l = 1; l < level; l++)
            bytes *= options.LevelSizeMultiplier;
        return bytes;
    }

    /// <summary>Scores per level (index = level; the last level is never a source).</summary>
    public static double[] Scores(Version version, LsmOptions options)
    {
        var scores = new double[version.NumLevels];
        scores[0] = version.Levels[0].Length / (double)options.Level0CompactionTrigger;
        for (int level = 1; level < version.NumLevels - 1; level++)
            scores[level] = version.LevelBytes(level) / MaxBytesForLevel(options, level);
        return scores;
    }

    /// <summary>
    /// Bytes that compaction must still rewrite before no level's score is 1 or more: all of L0 once it holds
    /// <see cref="LsmOptions.Level0CompactionTrigger"/> tables, and each deeper level's bytes over its budget. An
    /// estimate of the backlog (each compaction also rewrites the overlapping tables below), for operators.
    /// </summary>
    public static long DebtBytes(Version version, LsmOptions options)
    {
        long debt = version.Levels[0].Length >= options.Level0CompactionTrigger ? version.LevelBytes(0) : 0;
        for (int level = 1; level < version.NumLevels - 1; level++)
            debt += Math.Max(0, version.LevelBytes(level) - (long)MaxBytesForLevel(options, level));
        return debt;
    }

    public static CompactionPlan? Pick(Version version, LsmOptions options, byte[]?[] compactPointers, ISet<ulong> busy)
    {
        var scores = Scores(version, options);
        int best = -1;
        for (int level = 0; level < version.NumLevels - 1; level++)
            if (scores[level] >= 1 && (best < 0 || scores[level] > scores[best]))
                best = level;
        if (best < 0)
            return null;
        return best == 0 ? PickLevel0(version, busy) : PickLevel(version, best, compactPointers[best], busy);
    }

    /// <summary>
    /// A manual compaction of <paramref name="level"/> over the user-key range [begin, end]
    /// (null = open). Returns null when the level holds nothing in the range.
    /// </summary>
    public static CompactionPlan? PickRange(Version version, int level, byte[]? begin, byte[]? end)
    {
        var inputs = version.Overlapping(level, begin, end, begin is null, end is null);
        if (inputs.Count == 0)
            return null;
        if (level == 0)
            inputs = ExpandLevel0(version, inputs);
        return new CompactionPlan(level, inputs, OverlapsBelow(version, level, inputs), IsManual: true);
    }

    private static CompactionPlan? PickLevel0(Version version, ISet<ulong> busy)
    {
        // All of L0 at once: L0 tables overlap, and merging them together keeps L1 writes sequential.
        var inputs = version.Levels[0].ToList();
        if (inputs.Count == 0 || inputs.Any(f => busy.Contains(f.Number)))
            return null;
        var overlaps = OverlapsBelow(version, 0, inputs);
        if (overlaps.Any(f => busy.Contains(f.Number)))
            return null;
        return new CompactionPlan(0, inputs, overlaps, IsManual: false);
    }

    private static CompactionPlan? PickLevel(Version version, int level, byte[]? pointer, ISet<ulong> busy)
    {
        var files = version.Levels[level];
        if (files.Length == 0)
            return null;
        int start = 0;
        if (pointer is not null)
        {
            start = Array.FindIndex(files, f => InternalKey.Compare(f.Largest, pointer) > 0);
            if (start < 0)
                start = 0; // wrap around to the beginning of the key space
        }
        for (int i = 0; i < files.Length; i++)
        {
            var file = files[(start + i) % files.Length];
            if (busy.Contains(file.Number))
                continue;
            var inputs = new List<FileMetadata> { file };
            var overlaps = OverlapsBelow(version, level, inputs);
            if (overlaps.Any(f => busy.Contains(f.Number)))
                continue;
            return new CompactionPlan(level, inputs, overlaps, IsManual: false);
        }
        return null;
    }

    /// <summary>Grows a set of L0 inputs until it includes every L0 table overlapping it (L0 tables overlap each other).</summary>
    private static List<FileMetadata> ExpandLevel0(Version version, List<FileMetadata> inputs)
    {
        while (true)
        {
            var (begin, end) = UserKeyRange(inputs);
            var expanded = version.Overlapping(0, begin, end, false, false);
            if (expanded.Count == inputs.Count)
                return expanded;
            inputs = expanded;
        }
    }

    private static List<FileMetadata> OverlapsBelow(Version version, int level, IReadOnlyList<FileMetadata> inputs)
    {
        if (level + 1 >= version.NumLevels)
            return new List<FileMetadata>();
        var (begin, end) = UserKeyRange(inputs);
        return version.Overlapping(level + 1, begin, end, false, false);
    }

    public static (byte[] Begin, byte[] End) UserKeyRange(IEnumerable<FileMetadata> files)
    {
        byte[]? begin = null, end = null;
        foreach (var f in files)
        {
            var smallest = InternalKey.UserKey(f.Smallest);
            var largest = InternalKey.UserKey(f.Largest);
            if (begin is null || smallest.SequenceCompareTo(begin) < 0)
                begin = smallest.ToArray();
            if (end is null || largest.SequenceCompareTo(end) > 0)
                end = largest.ToArray();
        }
        return (begin ?? Array.Empty<byte>(), end ?? Array.Empty<byte>());
    }
}
