using LsmRaft.Storage.Format;

namespace LsmRaft.Storage.Compaction;

/// <summary>
/// Passes through a compaction's merged input, dropping entries no reader can observe:
/// an entry shadowed by a newer entry of the same user key that is itself visible at the oldest
/// snapshot, and a deletion visible at the oldest snapshot with no older data below the output level.
/// Invariant: for each user key, the newest entry visible at every live snapshot is kept.
/// </summary>
internal sealed class CompactionFilterIterator : IForwardCursor
{
    private readonly IInternalIterator _input;
    private readonly ulong _oldestSnapshot;
    private readonly Func<byte[], bool> _hasDataBelow;
    private readonly CancellationToken _token;
    private byte[] _currentUserKey = Array.Empty<byte>();
    private bool _haveUserKey;
    private ulong _lastSequenceForKey;
    private long _steps;

    public CompactionFilterIterator(IInternalIterator input, ulong oldestSnapshot, Func<byte[], bool> hasDataBelow, CancellationToken token)
    {
        _input = input;
        _oldestSnapshot = oldestSnapshot;
        _hasDataBelow = hasDataBelow;
        _token = token;
    }

    public bool Valid => _input.Valid;

    public ReadOnlySpan<byte> Key => _input.Key;

    public ReadOnlySpan<byte> Value => _input.Value;

    public void SeekToFirst()
    {
        _haveUserKey = false;
        _input.SeekToFirst();
        SkipDropped();
    }

    public void Next()
    {
        _input.Next();
        SkipDropped();
    }

    public void Dispose() { }

    private void SkipDropped()
    {
        while (_input.Valid)
        {
            if ((++_steps & 1023) == 0)
                _token.ThrowIfCancellationRequested();
            var key = _input.Key;
            var userKey = InternalKey.UserKey(key);
            ulong trailer = InternalKey.Trailer(key);
            ulong sequence = trailer >> 8;
            if (!_haveUserKey || !userKey.SequenceEqual(_currentUserKey))
            {
                _currentUserKey = userKey.ToArray();
                _haveUserKey = true;
                _lastSequenceForKey = ulong.MaxValue;
            }

            bool drop;
            if (_lastSequenceForKey <= _oldestSnapshot)
                drop = true; // a newer entry of this key is visible to every reader
            else if ((EntryKind)(byte)trailer == EntryKind.Deletion && sequence <= _oldestSnapshot && !_hasDataBelow(_currentUserKey))
                drop = true; // the tombstone hides nothing any reader could see
            else
                drop = false;
            _lastSequenceForKey = sequence;
            if (!drop)
                return;
            _input.Next();
        }
    }
}
