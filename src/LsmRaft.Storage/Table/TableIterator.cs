using LsmRaft.Storage.Format;

namespace LsmRaft.Storage.Table;

/// <summary>
/// Two-level iterator over a table: a cursor over the in-memory index block picks data blocks, a second
/// cursor walks the current data block. Empty positions (a data block with no entry at or after a seek
/// target) are skipped by moving the index cursor, forwards or backwards.
/// Invariant: when <c>_dataBlockOffset</c> ≥ 0, <c>_data</c> is initialised on the block the index cursor
/// points at; otherwise <c>_data</c> is cleared (invalid).
/// </summary>
internal sealed class TableIterator : IInternalIterator
{
    private readonly TableReader _table;
    private BlockCursor _index;
    private BlockCursor _data;
    private long _dataBlockOffset = -1;
    private bool _disposed;

    public TableIterator(TableReader table)
    {
        _table = table;
        _index.Init(table.IndexBlock);
        _data.Clear();
    }

    public bool Valid => _data.Valid;

    public ReadOnlySpan<byte> Key => _data.Key;

    public ReadOnlySpan<byte> Value => _data.Value;

    public void SeekToFirst()
    {
        ThrowIfDisposed();
        _index.SeekToFirst();
        if (LoadDataBlock())
            _data.SeekToFirst();
        SkipEmptyBlocksForward();
    }

    public void SeekToLast()
    {
        ThrowIfDisposed();
        _index.SeekToLast();
        if (LoadDataBlock())
            _data.SeekToLast();
        SkipEmptyBlocksBackward();
    }

    public void Seek(ReadOnlySpan<byte> target)
    {
        ThrowIfDisposed();
        _index.Seek(target);
        if (LoadDataBlock())
            _data.Seek(target);
        SkipEmptyBlocksForward();
    }

    public void Next()
    {
        ThrowIfDisposed();
        _data.Next();
        SkipEmptyBlocksForward();
    }

    public void Prev()
    {
        ThrowIfDisposed();
        _data.Prev();
        SkipEmptyBlocksBackward();
    }

    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        _index.ReleaseBuffer();
        _data.ReleaseBuffer();
        _data.Clear();
    }

    private void SkipEmptyBlocksForward()
    {
        while (!_data.Valid)
        {
            if (!_index.Valid)
                return;
            _index.Next();
            if (LoadDataBlock())
                _data.SeekToFirst();
        }
    }

    private void SkipEmptyBlocksBackward()
    {
        while (!_data.Valid)
        {
            if (!_index.Valid)
                return;
            _index.Prev();
            if (LoadDataBlock())
                _data.SeekToLast();
        }
    }

    /// <summary>Points the data cursor at the block the index cursor names; false (data cleared) when the index is exhausted.</summary>
    private bool LoadDataBlock()
    {
        if (!_index.Valid)
        {
            _data.Clear();
            _dataBlockOffset = -1;
            return false;
        }
        var handle = _table.DecodeHandle(_index.Value);
        if (handle.Offset != _dataBlockOffset)
        {
            _data.Init(_table.GetDataBlock(handle));
            _dataBlockOffset = handle.Offset;
        }
        return true;
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);
}
