using LsmRaft.Storage.Format;
using LsmRaft.Storage.Versions;

namespace LsmRaft.Storage.Iterators;

/// <summary>
/// Concatenates the tables of one sorted, non-overlapping level (L1 and deeper), opening each
/// table's iterator only when the cursor reaches it.
/// </summary>
internal sealed class LevelIterator : IInternalIterator
{
    private readonly IReadOnlyList<FileMetadata> _files;
    private readonly Func<FileMetadata, IInternalIterator> _open;
    private int _index = -1;
    private IInternalIterator? _table;

    public LevelIterator(IReadOnlyList<FileMetadata> files, Func<FileMetadata, IInternalIterator> open)
    {
        _files = files;
        _open = open;
    }

    public bool Valid => _table is not null && _table.Valid;

    public ReadOnlySpan<byte> Key => _table!.Key;

    public ReadOnlySpan<byte> Value => _table!.Value;

    public void SeekToFirst()
    {
        SetFile(0);
        _table?.SeekToFirst();
        SkipEmptyForward();
    }

    public void SeekToLast()
    {
        SetFile(_files.Count - 1);
        _table?.SeekToLast();
        SkipEmptyBackward();
    }

    public void Seek(ReadOnlySpan<byte> target)
    {
        SetFile(FindFile(_files, target));
        _table?.Seek(target);
        SkipEmptyForward();
    }

    public void Next()
    {
        _table!.Next();
        SkipEmptyForward();
    }

    public void Prev()
    {
        _table!.Prev();
        SkipEmptyBackward();
    }

    public void Dispose() => _table?.Dispose();

    /// <summary>Index of the first file whose largest key is ≥ <paramref name="target"/> (Count when none).</summary>
    public static int FindFile(IReadOnlyList<FileMetadata> files, ReadOnlySpan<byte> target)
    {
        int lo = 0, hi = files.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (InternalKey.Compare(files[mid].Largest, target) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        return lo;
    }

    private void SkipEmptyForward()
    {
        while (_table is not null && !_table.Valid)
        {
            if (_index + 1 >= _files.Count)
            {
                SetFile(_files.Count);
                return;
            }
            SetFile(_index + 1);
            _table!.SeekToFirst();
        }
    }

    private void SkipEmptyBackward()
    {
        while (_table is not null && !_table.Valid)
        {
            if (_index - 1 < 0)
            {
                SetFile(-1);
                return;
            }
            SetFile(_index - 1);
            _table!.SeekToLast();
        }
    }

    private void SetFile(int index)
    {
        if (index == _index && _table is not null)
            return;
        _table?.Dispose();
        _table = null;
        _index = index;
        if (index >= 0 && index < _files.Count)
            _table = _open(_files[index]);
    }
}
