using System.Buffers;
using System.Runtime.CompilerServices;
using LsmRaft.Storage.Format;

namespace LsmRaft.Storage.Table;

/// <summary>
/// A bidirectional position inside one <see cref="Block"/>, as a mutable struct so point lookups allocate
/// nothing; keep it in a non-readonly field or local and never copy it. Seek binary-searches the restart
/// points (whose keys are stored whole) and scans linearly within the interval; Prev rescans from the
/// previous restart point, as LevelDB does.
/// A key at a restart point (shared = 0) is read in place; a prefix-compressed key is rebuilt in a buffer
/// rented from <see cref="ArrayPool{T}"/>, returned by <see cref="ReleaseBuffer"/>.
/// Invariants while valid: <c>_restartIndex</c> is the last restart at or before <c>_current</c>;
/// <c>_next</c> is the offset just past the current entry. Invalid ⇔ <c>_current == _restartsOffset</c>.
/// Every malformed entry raises <see cref="CorruptionException"/> naming the table.
/// </summary>
internal struct BlockCursor
{
    private Block? _block;
    private byte[] _data;
    private int _restartsOffset;
    private int _restartCount;
    private int _current;
    private int _next;
    private int _restartIndex;
    private byte[]? _keyBuffer;
    private bool _keyInBuffer;
    private int _keyOffset;
    private int _keyLength;
    private int _valueOffset;
    private int _valueLength;

    public void Init(Block block)
    {
        _block = block;
        _data = block.Data;
        _restartsOffset = block.RestartsOffset;
        _restartCount = block.RestartCount;
        MarkInvalid();
    }

    /// <summary>Detaches from any block; the cursor becomes invalid.</summary>
    public void Clear()
    {
        _block = null;
        _data = [];
        _restartsOffset = 0;
        _restartCount = 0;
        MarkInvalid();
    }

    public readonly bool Valid => _current < _restartsOffset;

    /// <summary>The block the cursor is on, if any.</summary>
    public readonly Block? Block => _block;

    public readonly ReadOnlySpan<byte> Key =>
        _keyInBuffer ? _keyBuffer.AsSpan(0, _keyLength) : _data.AsSpan(_keyOffset, _keyLength);

    public readonly ReadOnlySpan<byte> Value => _data.AsSpan(_valueOffset, _valueLength);

    public void SeekToFirst()
    {
        if (_restartsOffset == 0)
            return;
        SeekToRestart(0);
        ParseNext();
    }

    public void SeekToLast()
    {
        if (_restartsOffset == 0)
            return;
        SeekToRestart(_restartCount - 1);
        while (ParseNext() && _next < _restartsOffset)
        {
        }
    }

    /// <summary>Positions at the first entry with key ≥ <paramref name="target"/>, or invalid if there is none.</summary>
    public void Seek(ReadOnlySpan<byte> target)
    {
        if (_restartsOffset == 0)
            return;
        int left = 0, right = _restartCount - 1;
        while (left < right)
        {
            int mid = (left + right + 1) >>> 1;
            if (InternalKey.Compare(KeyAtRestart(mid), target) < 0)
                left = mid;
            else
                right = mid - 1;
        }
        SeekToRestart(left);
        while (ParseNext())
        {
            if (InternalKey.Compare(Key, target) >= 0)
                return;
        }
    }

    public void Next()
    {
        if (Valid)
            ParseNext();
    }

    public void Prev()
    {
        if (!Valid)
            return;
        int original = _current;
        while (_block!.RestartPoint(_restartIndex) >= original)
        {
            if (_restartIndex == 0)
            {
                MarkInvalid();
                return;
            }
            _restartIndex--;
        }
        SeekToRestart(_restartIndex);
        while (ParseNext() && _next < original)
        {
        }
    }

    public void ReleaseBuffer()
    {
        if (_keyBuffer is not null)
        {
            ArrayPool<byte>.Shared.Return(_keyBuffer);
            _keyBuffer = null;
            _keyInBuffer = false;
        }
    }

    private void MarkInvalid()
    {
        _current = _restartsOffset;
        _next = _restartsOffset;
        _restartIndex = _restartCount;
        _keyInBuffer = false;
        _keyLength = 0;
    }

    private void SeekToRestart(int index)
    {
        _restartIndex = index;
        _next = _block!.RestartPoint(index);
        _keyInBuffer = false;
        _keyLength = 0;
    }

    /// <summary>The whole key stored at a restart point (which must not share a prefix).</summary>
    private readonly ReadOnlySpan<byte> KeyAtRestart(int index)
    {
        int p = _block!.RestartPoint(index);
        DecodeHeader(p, out int shared, out int nonShared, out _, out int keyStart);
        if (shared != 0)
            throw _block.Corrupt($"entry at restart point {index} (offset {p}) shares {shared} bytes with a previous key");
        if (nonShared < InternalKey.TrailerSize)
            throw _block.Corrupt($"key of {nonShared} bytes at offset {p} is shorter than an internal key trailer");
        return _data.AsSpan(keyStart, nonShared);
    }

    /// <summary>Decodes the entry at <c>_next</c>; returns false (and invalidates) at the end of the entries.</summary>
    private bool ParseNext()
    {
        _current = _next;
        if (_current >= _restartsOffset)
        {
            MarkInvalid();
            return false;
        }

        DecodeHeader(_current, out int shared, out int nonShared, out int valueLength, out int keyStart);
        if (shared > _keyLength)
            throw _block!.Corrupt($"entry at offset {_current} shares {shared} bytes with a key of {_keyLength} bytes");
        int keyLength = shared + nonShared;
        if (keyLength < InternalKey.TrailerSize)
            throw _block!.Corrupt($"key of {keyLength} bytes at offset {_current} is shorter than an internal key trailer");

        if (shared == 0)
        {
            _keyInBuffer = false;
            _keyOffset = keyStart;
        }
        else
        {
            if (_keyBuffer is null || _keyBuffer.Length < keyLength)
                GrowKeyBuffer(keyLength);
            if (!_keyInBuffer)
            {
                _data.AsSpan(_keyOffset, shared).CopyTo(_keyBuffer);
                _keyInBuffer = true;
            }
            _data.AsSpan(keyStart, nonShared).CopyTo(_keyBuffer.AsSpan(shared));
        }
        _keyLength = keyLength;
        _valueOffset = keyStart + nonShared;
        _valueLength = valueLength;
        _next = _valueOffset + valueLength;

        while (_restartIndex + 1 < _restartCount && _block!.RestartPoint(_restartIndex + 1) <= _current)
            _restartIndex++;
        return true;
    }

    /// <summary>Reads the three varints at <paramref name="p"/> and checks the key delta and value fit in the entries region.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly void DecodeHeader(int p, out int shared, out int nonShared, out int valueLength, out int keyStart)
    {
        int limit = _restartsOffset;
        var data = _data;
        if (p + 3 <= limit && (data[p] | data[p + 1] | data[p + 2]) < 0x80)
        {
            // Fast path: all three lengths fit in one byte each.
            shared = data[p];
            nonShared = data[p + 1];
            valueLength = data[p + 2];
            keyStart = p + 3;
        }
        else
        {
            DecodeHeaderSlow(p, out shared, out nonShared, out valueLength, out keyStart);
        }
        if (nonShared > limit - keyStart || valueLength > limit - keyStart - nonShared)
            throw _block!.Corrupt($"entry at offset {p} runs past the end of the entries ({limit})");
    }

    private readonly void DecodeHeaderSlow(int p, out int shared, out int nonShared, out int valueLength, out int keyStart)
    {
        var src = _data.AsSpan(p, _restartsOffset - p);
        if (!Coding.TryReadLength(src, out shared, out int n1)
            || !Coding.TryReadLength(src[n1..], out nonShared, out int n2)
            || !Coding.TryReadLength(src[(n1 + n2)..], out valueLength, out int n3))
            throw _block!.Corrupt($"malformed entry header at offset {p}");
        keyStart = p + n1 + n2 + n3;
    }

    private void GrowKeyBuffer(int needed)
    {
        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, 64));
        if (_keyBuffer is not null)
        {
            if (_keyInBuffer)
                _keyBuffer.AsSpan(0, _keyLength).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(_keyBuffer);
        }
        _keyBuffer = bigger;
    }
}
