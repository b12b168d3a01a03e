using System.Buffers;
using LsmRaft.Storage.Format;

namespace LsmRaft.Storage.Table;

/// <summary>
/// Builds one block: prefix-compressed entries <c>shared:varint32 non_shared:varint32 value_len:varint32
/// key_delta value</c>, then the restart array (u32 LE offsets) and the restart count (u32 LE).
/// Every <c>restartInterval</c>-th entry is a restart point and stores its whole key (shared = 0).
/// Buffers come from <see cref="ArrayPool{T}"/> and go back on <see cref="Dispose"/>.
/// </summary>
internal sealed class BlockBuilder : IDisposable
{
    private readonly int _restartInterval;
    private byte[] _buffer;
    private int _size;
    private int[] _restarts;
    private int _restartCount;
    private int _counter;
    private byte[] _lastKey;
    private int _lastKeyLength;

    public BlockBuilder(int restartInterval, int initialCapacity)
    {
        _restartInterval = restartInterval;
        _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(initialCapacity, 256));
        _restarts = ArrayPool<int>.Shared.Rent(64);
        _lastKey = ArrayPool<byte>.Shared.Rent(64);
        Reset();
    }

    public bool IsEmpty => _size == 0;

    /// <summary>Size the block would have if finished now (without trailer).</summary>
    public int CurrentSizeEstimate => _size + (_restartCount + 1) * sizeof(uint);

    /// <summary>Appends an entry; the caller guarantees keys arrive in increasing order.</summary>
    public void Add(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        int shared = 0;
        if (_counter < _restartInterval)
        {
            shared = key.CommonPrefixLength(_lastKey.AsSpan(0, _lastKeyLength));
        }
        else
        {
            AppendRestart(_size);
            _counter = 0;
        }
        int nonShared = key.Length - shared;

        EnsureCapacity(3 * Coding.MaxVarint32Length + nonShared + value.Length);
        var dest = _buffer.AsSpan(_size);
        int n = Coding.WriteVarint(dest, (ulong)shared);
        n += Coding.WriteVarint(dest[n..], (ulong)nonShared);
        n += Coding.WriteVarint(dest[n..], (ulong)value.Length);
        key[shared..].CopyTo(dest[n..]);
        n += nonShared;
        value.CopyTo(dest[n..]);
        _size += n + value.Length;

        if (_lastKey.Length < key.Length)
        {
            ArrayPool<byte>.Shared.Return(_lastKey);
            _lastKey = ArrayPool<byte>.Shared.Rent(key.Length);
        }
        key.CopyTo(_lastKey);
        _lastKeyLength = key.Length;
        _counter++;
    }

    /// <summary>Appends the restart array and returns the finished contents, valid until <see cref="Reset"/>.</summary>
    public ReadOnlySpan<byte> Finish()
    {
        EnsureCapacity((_restartCount + 1) * sizeof(uint));
        for (int i = 0; i < _restartCount; i++)
        {
            Coding.WriteFixed32(_buffer.AsSpan(_size), (uint)_restarts[i]);
            _size += sizeof(uint);
        }
        Coding.WriteFixed32(_buffer.AsSpan(_size), (uint)_restartCount);
        _size += sizeof(uint);
        return _buffer.AsSpan(0, _size);
    }

    public void Reset()
    {
        _size = 0;
        _restartCount = 0;
        _lastKeyLength = 0;
        // The first entry is always a restart point, at offset 0; an empty block still has one restart.
        AppendRestart(0);
        _counter = 0;
    }

    public void Dispose()
    {
        ArrayPool<byte>.Shared.Return(_buffer);
        ArrayPool<int>.Shared.Return(_restarts);
        ArrayPool<byte>.Shared.Return(_lastKey);
        _buffer = [];
        _restarts = [];
        _lastKey = [];
    }

    private void AppendRestart(int offset)
    {
        if (_restartCount == _restarts.Length)
        {
            var bigger = ArrayPool<int>.Shared.Rent(_restarts.Length * 2);
            _restarts.AsSpan(0, _restartCount).CopyTo(bigger);
            ArrayPool<int>.Shared.Return(_restarts);
            _restarts = bigger;
        }
        _restarts[_restartCount++] = offset;
    }

    private void EnsureCapacity(int extra)
    {
        long needed = (long)_size + extra;
        if (needed <= _buffer.Length)
            return;
        if (needed > Array.MaxLength)
            throw new InvalidOperationException($"A table block would exceed {Array.MaxLength} bytes.");
        var bigger = ArrayPool<byte>.Shared.Rent((int)Math.Min(Array.MaxLength, Math.Max(needed, (long)_buffer.Length * 2)));
        _buffer.AsSpan(0, _size).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = bigger;
    }
}
