using LsmRaft.Storage.Format;

namespace LsmRaft.Storage.Versions;

/// <summary>Applies a sequence of <see cref="VersionEdit"/>s to a base level layout, producing a new one.</summary>
internal sealed class VersionBuilder
{
    private readonly List<FileMetadata>[] _levels;

    public VersionBuilder(FileMetadata[][] baseLevels)
    {
        _levels = baseLevels.Select(l => new List<FileMetadata>(l)).ToArray();
    }

    public void Apply(VersionEdit edit, string manifestName)
    {
        foreach (var (level, number) in edit.DeletedFiles)
        {
            CheckLevel(level, manifestName);
            _levels[level].RemoveAll(f => f.Number == number);
        }
        foreach (var (level, file) in edit.NewFiles)
        {
            CheckLevel(level, manifestName);
            _levels[level].RemoveAll(f => f.Number == file.Number);
            _levels[level].Add(file);
        }
    }

    public FileMetadata[][] Build(string manifestName)
    {
        var result = new FileMetadata[_levels.Length][];
        result[0] = _levels[0].OrderByDescending(f => f.Number).ToArray();
        for (int level = 1; level < _levels.Length; level++)
        {
            var files = _levels[level].ToArray();
            Array.Sort(files, (a, b) => InternalKey.Compare(a.Smallest, b.Smallest));
            // Invariant: tables of L1+ do not overlap. A manifest that breaks it is corrupt.
            for (int i = 1; i < files.Length; i++)
            {
                if (InternalKey.Compare(files[i - 1].Largest, files[i].Smallest) >= 0)
                    throw new CorruptionException(manifestName, 0, $"tables {files[i - 1].Number} and {files[i].Number} overlap in level {level}");
            }
            result[level] = files;
        }
        return result;
    }

    private void CheckLevel(int level, string manifestName)
    {
        if (level < 0 || level >= _levels.Length)
            throw new CorruptionException(manifestName, 0, $"level {level} is outside 0..{_levels.Length - 1} (was the database created with more levels? set NumLevels to at least {level + 1})");
    }
}
