using LsmRaft.Storage.Format;

namespace LsmRaft.Storage;

/// <summary>
/// A cursor over user keys at a consistent sequence (a snapshot), hiding older versions and deletions.
/// Not thread-safe. Dispose it to release the files it pins.
/// </summary>
/// <remarks>
/// The inner iterator yields internal keys (newest version first for each user key). Moving forward,
/// the inner cursor sits on the entry being returned. Moving backward, it sits just before every
/// entry of the current user key, whose key and value are saved (the LevelDB DBIter scheme).
/// </remarks>
public sealed class LsmIterator : IDisposable
{
    private readonly IInternalIterator _inner;
    private readonly ulong _sequence;
    private readonly Action? _release;
    private byte[] _savedKey = new byte[64];
    private int _savedKeyLength;
    private byte[] _savedValue = Array.Empty<byte>();
    private int _savedValueLength;
    private bool _forward = true;
    private bool _valid;
    private bool _disposed;

    internal LsmIterator(IInternalIterator inner, ulong sequence, Action? release)
    {
        _inner = inner;
        _sequence = sequence;
        _release = release;
    }

    public bool Valid => _valid;

    /// <summary>The current key. Valid until the next move.</summary>
    public ReadOnlySpan<byte> Key
    {
        get
        {
            RequireValid();
            return _forward ? InternalKey.UserKey(_inner.Key) : _savedKey.AsSpan(0, _savedKeyLength);
        }
    }

    /// <summary>The current value. Valid until the next move.</summary>
    public ReadOnlySpan<byte> Value
    {
        get
        {
            RequireValid();
            return _forward ? _inner.Value : _savedValue.AsSpan(0, _savedValueLength);
        }
    }

    public void SeekToFirst()
    {
        RequireOpen();
        _forward = true;
        _inner.SeekToFirst();
        FindNextUserEntry(skipping: false);
    }

    public void SeekToLast()
    {
        RequireOpen();
        _forward = false;
        _inner.SeekToLast();
        FindPrevUserEntry();
    }

    /// <summary>Positions at the first key ≥ <paramref name="key"/>.</summary>
    public void Seek(ReadOnlySpan<byte> key)
    {
        RequireOpen();
        _forward = true;
        _inner.Seek(InternalKey.ForSeek(key, _sequence));
        FindNextUserEntry(skipping: false);
    }

    /// <summary>Positions at the last key ≤ <paramref name="key"/>.</summary>
    public void SeekForPrev(ReadOnlySpan<byte> key)
    {
        Seek(key);
        if (!_valid)
            SeekToLast();
        else if (!Key.SequenceEqual(key))
            Prev();
    }

    /// <summary>Positions at the last key &lt; <paramref name="key"/>.</summary>
    public void SeekBefore(ReadOnlySpan<byte> key)
    {
        Seek(key);
        if (!_valid)
            SeekToLast();
        else
            Prev();
    }

    public void Next()
    {
        RequireValid();
        if (!_forward)
        {
            // The inner cursor is just before this key's entries: step into them, then skip them.
            _forward = true;
            if (!_inner.Valid)
                _inner.SeekToFirst();
            else
                _inner.Next();
            if (!_inner.Valid)
            {
                _valid = false;
                return;
            }
        }
        else
        {
            SaveKey(InternalKey.UserKey(_inner.Key));
            _inner.Next();
            if (!_inner.Valid)
            {
                _valid = false;
                return;
            }
        }
        FindNextUserEntry(skipping: true);
    }

    public void Prev()
    {
        RequireValid();
        if (_forward)
        {
            // Walk back past every entry of the current key, so the inner cursor is before them.
            SaveKey(InternalKey.UserKey(_inner.Key));
            while (true)
            {
                _inner.Prev();
                if (!_inner.Valid)
                {
                    _valid = false;
                    _forward = false;
                    return;
                }
                if (InternalKey.UserKey(_inner.Key).SequenceCompareTo(SavedKey) < 0)
                    break;
            }
            _forward = false;
        }
        FindPrevUserEntry();
    }

    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        _valid = false;
        _inner.Dispose();
        _release?.Invoke();
    }

    private ReadOnlySpan<byte> SavedKey => _savedKey.AsSpan(0, _savedKeyLength);

    private void FindNextUserEntry(bool skipping)
    {
        // Invariant on entry: _inner is forward-positioned; with skipping, SavedKey holds a user key
        // whose entries (all of them) must be passed over.
        while (_inner.Valid)
        {
            var key = _inner.Key;
            ulong trailer = InternalKey.Trailer(key);
            if (trailer >> 8 <= _sequence)
            {
                var userKey = InternalKey.UserKey(key);
                if ((EntryKind)(byte)trailer == EntryKind.Deletion)
                {
                    SaveKey(userKey);
                    skipping = true;
                }
                else if (!skipping || userKey.SequenceCompareTo(SavedKey) > 0)
                {
                    _valid = true;
                    return;
                }
            }
            _inner.Next();
        }
        _valid = false;
    }

    private void FindPrevUserEntry()
    {
        var kind = EntryKind.Deletion;
        while (_inner.Valid)
        {
            var key = _inner.Key;
            ulong trailer = InternalKey.Trailer(key);
            if (trailer >> 8 <= _sequence)
            {
                var userKey = InternalKey.UserKey(key);
                if (kind != EntryKind.Deletion && userKey.SequenceCompareTo(SavedKey) < 0)
                    break; // a live value of a later key is saved; this entry belongs to an earlier key
                kind = (EntryKind)(byte)trailer;
                if (kind == EntryKind.Deletion)
                {
                    _savedKeyLength = 0;
                    _savedValueLength = 0;
                }
                else
                {
                    SaveKey(userKey);
                    SaveValue(_inner.Value);
                }
            }
            _inner.Prev();
        }
        if (kind == EntryKind.Deletion)
        {
            _valid = false;
            _forward = true;
        }
        else
        {
            _valid = true;
        }
    }

    private void SaveKey(ReadOnlySpan<byte> key)
    {
        if (key.Length > _savedKey.Length)
            _savedKey = new byte[Math.Max(key.Length, _savedKey.Length * 2)];
        key.CopyTo(_savedKey);
        _savedKeyLength = key.Length;
    }

    private void SaveValue(ReadOnlySpan<byte> value)
    {
        if (value.Length > _savedValue.Length)
            _savedValue = new byte[Math.Max(value.Length, _savedValue.Length * 2)];
        value.CopyTo(_savedValue);
        _savedValueLength = value.Length;
    }

    private void RequireOpen() => ObjectDisposedException.ThrowIf(_disposed, this);

    private void RequireValid()
    {
        RequireOpen();
        if (!_valid)
            throw new InvalidOperationException("The iterator is not positioned on an entry (check Valid).");
    }
}
