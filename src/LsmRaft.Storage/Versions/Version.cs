using LsmRaft.Storage.Format;

namespace LsmRaft.Storage.Versions;

/// <summary>
/// An immutable set of live tables, per level. L0 tables may overlap and are ordered newest first
/// (highest file number first); tables of L1 and deeper do not overlap and are ordered by key.
/// Reference-counted: a table file may be deleted only when no referenced version lists it.
/// </summary>
internal sealed class Version
{
    private readonly Action<Version> _onUnreferenced;
    private int _refs;

    public Version(FileMetadata[][] levels, Action<Version> onUnreferenced)
    {
        Levels = levels;
        _onUnreferenced = onUnreferenced;
    }

    public FileMetadata[][] Levels { get; }

    public int NumLevels => Levels.Length;

    public void Ref() => Interlocked.Increment(ref _refs);

    public void Unref()
    {
        int refs = Interlocked.Decrement(ref _refs);
        if (refs == 0)
            _onUnreferenced(this);
        else if (refs < 0)
            throw new InvalidOperationException("Version reference count went negative.");
    }

    public long LevelBytes(int level)
    {
        long total = 0;
        foreach (var f in Levels[level])
            total += f.Size;
        return total;
    }

    /// <summary>Tables of <paramref name="level"/> whose user-key range meets [begin, end] (null = open bound).</summary>
    public List<FileMetadata> Overlapping(int level, ReadOnlySpan<byte> beginUserKey, ReadOnlySpan<byte> endUserKey, bool openBegin, bool openEnd)
    {
        var result = new List<FileMetadata>();
        foreach (var f in Levels[level])
        {
            var smallest = InternalKey.UserKey(f.Smallest);
            var largest = InternalKey.UserKey(f.Largest);
            if (!openEnd && smallest.SequenceCompareTo(endUserKey) > 0)
                continue;
            if (!openBegin && largest.SequenceCompareTo(beginUserKey) < 0)
                continue;
            result.Add(f);
        }
        return result;
    }

    /// <summary>True when some table below <paramref name="level"/> may hold <paramref name="userKey"/>.</summary>
    public bool HasDataBelow(int level, ReadOnlySpan<byte> userKey)
    {
        for (int l = level + 1; l < Levels.Length; l++)
        {
            foreach (var f in Levels[l])
            {
                if (InternalKey.UserKey(f.Smallest).SequenceCompareTo(userKey) <= 0 &&
                    InternalKey.UserKey(f.Largest).SequenceCompareTo(userKey) >= 0)
                    return true;
            }
        }
        return false;
    }
}
