using LsmRaft.Storage.Format;

namespace LsmRaft.Storage.Iterators;

/// <summary>
/// Merges several sorted internal iterators into one sorted stream (duplicates across children are
/// not expected: internal keys are unique). A linear scan over the children picks the next entry,
/// which beats a heap for the handful of children an LSM read sees (memtables, L0 files, one per level).
/// Direction switches re-seek the non-current children, as in LevelDB.
/// </summary>
internal sealed class MergingIterator : IInternalIterator
{
    private readonly IInternalIterator[] _children;
    private IInternalIterator? _current;

    // Forward direction only: the smallest child other than _current. The other children do not move
    // while _current advances, so as long as _current stays below _runnerUp it is still the smallest —
    // one comparison per Next instead of one per child (long runs from one level are the common case).
    private IInternalIterator? _runnerUp;
    private bool _forward = true;

    public MergingIterator(IInternalIterator[] children) => _children = children;

    public bool Valid => _current is not null && _current.Valid;

    public ReadOnlySpan<byte> Key => _current!.Key;

    public ReadOnlySpan<byte> Value => _current!.Value;

    public void SeekToFirst()
    {
        foreach (var child in _children)
            child.SeekToFirst();
        FindSmallest();
        _forward = true;
    }

    public void SeekToLast()
    {
        foreach (var child in _children)
            child.SeekToLast();
        FindLargest();
        _forward = false;
    }

    public void Seek(ReadOnlySpan<byte> target)
    {
        foreach (var child in _children)
            child.Seek(target);
        FindSmallest();
        _forward = true;
    }

    public void Next()
    {
        var current = _current!;
        if (!_forward)
        {
            // Every other child is positioned before Key; move each to the first entry after Key.
            byte[] key = current.Key.ToArray();
            foreach (var child in _children)
            {
                if (ReferenceEquals(child, current))
                    continue;
                child.Seek(key);
                if (child.Valid && InternalKey.Compare(key, child.Key) == 0)
                    child.Next();
            }
            _forward = true;
            current.Next();
            FindSmallest();
            return;
        }
        current.Next();
        if (current.Valid && (_runnerUp is null || InternalKey.Compare(current.Key, _runnerUp.Key) < 0))
            return;
        FindSmallest();
    }

    public void Prev()
    {
        var current = _current!;
        if (_forward)
        {
            // Every other child is positioned after Key; move each to the last entry before Key.
            byte[] key = current.Key.ToArray();
            foreach (var child in _children)
            {
                if (ReferenceEquals(child, current))
                    continue;
                child.Seek(key);
                if (child.Valid)
                    child.Prev();
                else
                    child.SeekToLast();
            }
            _forward = false;
        }
        current.Prev();
        FindLargest();
    }

    public void Dispose()
    {
        foreach (var child in _children)
            child.Dispose();
    }

    private void FindSmallest()
    {
        IInternalIterator? smallest = null, runnerUp = null;
        foreach (var child in _children)
        {
            if (!child.Valid)
                continue;
            if (smallest is null || InternalKey.Compare(child.Key, smallest.Key) < 0)
            {
                runnerUp = smallest;
                smallest = child;
            }
            else if (runnerUp is null || InternalKey.Compare(child.Key, runnerUp.Key) < 0)
            {
                runnerUp = child;
            }
        }
        _current = smallest;
        _runnerUp = runnerUp;
    }

    private void FindLargest()
    {
        IInternalIterator? largest = null;
        for (int i = _children.Length - 1; i >= 0; i--)
        {
            var child = _children[i];
            if (child.Valid && (largest is null || InternalKey.Compare(child.Key, largest.Key) > 0))
                largest = child;
        }
        _current = largest;
    }
}
