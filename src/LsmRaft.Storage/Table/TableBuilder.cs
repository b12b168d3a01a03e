using LsmRaft.Storage.Format;
using LsmRaft.Storage.IO;

namespace LsmRaft.Storage.Table;

/// <summary>
/// Writes one SSTable (docs/formats/sstable.md): data blocks, the Bloom filter block, the index block and
/// the footer. Keys are internal keys added in strictly increasing <see cref="InternalKey.Compare"/> order.
/// The builder does not own the file: the caller syncs and disposes it after <see cref="Finish"/>.
/// </summary>
internal sealed class TableBuilder : IDisposable
{
    private readonly IWritableFile _file;
    private readonly TableOptions _options;
    private readonly BlockBuilder _dataBlock;
    private readonly BlockBuilder _indexBlock;
    private readonly List<ulong> _filterHashes = new();
    private readonly double _bitsPerKey;
    private readonly int _hashFunctions;
    private byte[] _lastKey = new byte[64];
    private int _lastKeyLength;
    private byte[] _separator = new byte[64];

    // Invariant: when set, _pendingHandle is the last data block written and it has no index entry yet;
    // its entry is added once the next key (or Finish) tells how short the separator may be.
    private bool _pendingIndexEntry;
    private BlockHandle _pendingHandle;
    private long _offset;
    private long _entryCount;
    private bool _finished;
    private bool _disposed;

    public TableBuilder(IWritableFile file, TableOptions options)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (file.Length != 0)
            throw new ArgumentException("A table must be written to an empty file: block handles are absolute offsets.", nameof(file));
        _file = file;
        _options = options;
        _bitsPerKey = BloomFilter.BitsPerKey(options.BloomFalsePositiveRate);
        _hashFunctions = options.BloomHashFunctions ?? BloomFilter.OptimalHashFunctions(options.BloomFalsePositiveRate);
        _dataBlock = new BlockBuilder(options.RestartInterval, options.BlockSize + options.BlockSize / 4);
        _indexBlock = new BlockBuilder(TableFormat.IndexRestartInterval, 4096);
    }

    /// <summary>Bytes written so far plus the current, unfinished data block.</summary>
    public long EstimatedFileSize => _offset + (_dataBlock.IsEmpty ? 0 : _dataBlock.CurrentSizeEstimate);

    public long EntryCount => _entryCount;

    public void Add(ReadOnlySpan<byte> internalKey, ReadOnlySpan<byte> value)
    {
        ThrowIfClosed();
        if (internalKey.Length < InternalKey.TrailerSize)
            throw new ArgumentException($"An internal key has at least {InternalKey.TrailerSize} bytes; got {internalKey.Length}.", nameof(internalKey));
        var lastKey = _lastKey.AsSpan(0, _lastKeyLength);
        if (_entryCount > 0 && InternalKey.Compare(internalKey, lastKey) <= 0)
            throw new InvalidOperationException("Keys must be added to a table in strictly increasing internal-key order.");

        if (_pendingIndexEntry)
        {
            int n = IndexSeparator.ShortestSeparator(lastKey, internalKey, SeparatorBuffer(lastKey.Length));
            AddIndexEntry(_separator.AsSpan(0, n), _pendingHandle);
            _pendingIndexEntry = false;
        }

        var userKey = InternalKey.UserKey(internalKey);
        if (_entryCount == 0 || !userKey.SequenceEqual(InternalKey.UserKey(lastKey)))
            _filterHashes.Add(BloomFilter.HashKey(userKey));

        if (_lastKey.Length < internalKey.Length)
            _lastKey = new byte[Math.Max(internalKey.Length, _lastKey.Length * 2)];
        internalKey.CopyTo(_lastKey);
        _lastKeyLength = internalKey.Length;

        _dataBlock.Add(internalKey, value);
        _entryCount++;
        if (_dataBlock.CurrentSizeEstimate >= _options.BlockSize)
            FlushDataBlock();
    }

    /// <summary>Writes the last data block, filter, index and footer; returns the file size. Call once.</summary>
    public long Finish()
    {
        ThrowIfClosed();
        FlushDataBlock();

        var filterHandle = WriteBlock(BloomFilter.Build(_filterHashes, _bitsPerKey, _hashFunctions));

        if (_pendingIndexEntry)
        {
            var lastKey = _lastKey.AsSpan(0, _lastKeyLength);
            int n = IndexSeparator.ShortSuccessor(lastKey, SeparatorBuffer(lastKey.Length));
            AddIndexEntry(_separator.AsSpan(0, n), _pendingHandle);
            _pendingIndexEntry = false;
        }
        var indexHandle = WriteBlock(_indexBlock.Finish());

        Span<byte> footer = stackalloc byte[Footer.Size];
        new Footer(filterHandle, indexHandle, _entryCount).EncodeTo(footer);
        _file.Append(footer);
        _offset += Footer.Size;
        _finished = true;
        return _offset;
    }

    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        _dataBlock.Dispose();
        _indexBlock.Dispose();
    }

    private void FlushDataBlock()
    {
        if (_dataBlock.IsEmpty)
            return;
        _pendingHandle = WriteBlock(_dataBlock.Finish());
        _pendingIndexEntry = true;
        _dataBlock.Reset();
    }

    private BlockHandle WriteBlock(ReadOnlySpan<byte> contents)
    {
        Span<byte> trailer = stackalloc byte[TableFormat.BlockTrailerSize];
        TableFormat.WriteBlockTrailer(contents, trailer);
        _file.Append(contents);
        _file.Append(trailer);
        var handle = new BlockHandle(_offset, contents.Length);
        _offset += contents.Length + TableFormat.BlockTrailerSize;
        return handle;
    }

    private void AddIndexEntry(ReadOnlySpan<byte> separator, BlockHandle handle)
    {
        Span<byte> encoded = stackalloc byte[BlockHandle.MaxEncodedLength];
        int n = handle.EncodeTo(encoded);
        _indexBlock.Add(separator, encoded[..n]);
    }

    private Span<byte> SeparatorBuffer(int length)
    {
        if (_separator.Length < length)
            _separator = new byte[Math.Max(length, _separator.Length * 2)];
        return _separator;
    }

    private void ThrowIfClosed()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_finished)
            throw new InvalidOperationException("The table is already finished.");
    }
}
