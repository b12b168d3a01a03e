using System.Buffers;
using System.Runtime.CompilerServices;
using LsmRaft.Storage.Cache;
using LsmRaft.Storage.Format;
using LsmRaft.Storage.IO;
using LsmRaft.Storage.Versions;

namespace LsmRaft.Storage.Table;

/// <summary>
/// An open SSTable. The footer, index block and Bloom filter are read and checked once, at open, and kept
/// in memory; data blocks are read on demand through the shared <see cref="BlockCache"/> (checksum verified
/// on every read from the file, not on cache hits). Thread-safe: any number of threads may call
/// <see cref="TryGet"/> and iterate at once. Iterators must be disposed before the reader.
/// The reader owns <c>file</c> from <see cref="Open"/> on, and disposes it (also when Open throws).
/// </summary>
// Stack buffers here are always written before they are read; skipping their zeroing matters on the Get path.
[SkipLocalsInit]
internal sealed class TableReader : IDisposable
{
    private const int StackKeyLimit = 256;

    private readonly IRandomAccessFile _file;
    private readonly string _fileName;
    private readonly BlockCache _cache;
    private readonly ulong _cacheId;
    private readonly EngineCounters _counters;
    private readonly Block _index;
    private readonly BloomFilter _filter;
    private readonly long _dataEnd;
    private bool _disposed;

    private TableReader(IRandomAccessFile file, string fileName, BlockCache cache, EngineCounters counters,
        long fileSize, Footer footer, Block index, BloomFilter filter)
    {
        _file = file;
        _fileName = fileName;
        _cache = cache;
        _cacheId = cache.NewId();
        _counters = counters;
        FileSize = fileSize;
        EntryCount = footer.EntryCount;
        _index = index;
        _filter = filter;
        // Data blocks precede the filter block, so its offset is where the data ends.
        _dataEnd = footer.Filter.Offset;
    }

    public long FileSize { get; }

    public long EntryCount { get; }

    internal string FileName => _fileName;

    internal BloomFilter Filter => _filter;

    public static TableReader Open(IRandomAccessFile file, string fileName, BlockCache cache, EngineCounters counters)
    {
        ArgumentNullException.ThrowIfNull(file);
        try
        {
            ArgumentNullException.ThrowIfNull(fileName);
            ArgumentNullException.ThrowIfNull(cache);
            ArgumentNullException.ThrowIfNull(counters);

            long size = file.Length;
            if (size < Footer.Size)
                throw new CorruptionException(fileName, 0, $"file of {size} bytes is shorter than the {Footer.Size}-byte table footer");
            long footerOffset = size - Footer.Size;
            Span<byte> footerBytes = stackalloc byte[Footer.Size];
            if (file.Read(footerOffset, footerBytes) != Footer.Size)
                throw new CorruptionException(fileName, footerOffset, "short read of the table footer");
            var footer = Footer.Decode(footerBytes, fileName, footerOffset);

            var filterBytes = ReadBlock(file, fileName, footer.Filter, footerOffset, "filter");
            var filter = BloomFilter.Parse(filterBytes.AsSpan(0, (int)footer.Filter.Size), fileName, footer.Filter.Offset);
            if (footer.Index.Offset < footer.Filter.Offset + footer.Filter.Size + TableFormat.BlockTrailerSize)
                throw new CorruptionException(fileName, footerOffset, "index block overlaps the filter block");
            var indexBytes = ReadBlock(file, fileName, footer.Index, footerOffset, "index");
            var index = new Block(indexBytes, (int)footer.Index.Size, fileName, footer.Index.Offset);

            return new TableReader(file, fileName, cache, counters, size, footer, index, filter);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The newest entry of <paramref name="userKey"/> with sequence ≤ <paramref name="snapshotSequence"/>.
    /// False when the table holds no such entry; otherwise its kind and, for a value, a fresh copy of it.
    /// </summary>
    public bool TryGet(ReadOnlySpan<byte> userKey, ulong snapshotSequence, out EntryKind kind, out byte[]? value)
    {
        kind = default;
        value = null;
        Interlocked.Increment(ref _counters.BloomChecks);
        if (!_filter.MayContain(userKey))
        {
            Interlocked.Increment(ref _counters.BloomUseful);
            return false;
        }

        int targetLength = userKey.Length + InternalKey.TrailerSize;
        byte[]? rented = null;
        Span<byte> target = targetLength <= StackKeyLimit
            ? stackalloc byte[StackKeyLimit]
            : (rented = ArrayPool<byte>.Shared.Rent(targetLength));
        target = target[..targetLength];

        var index = default(BlockCursor);
        var data = default(BlockCursor);
        try
        {
            InternalKey.Write(target, userKey, Math.Min(snapshotSequence, InternalKey.MaxSequence), EntryKind.Value);
            if (SeekFirstAtOrAfter(target, ref index, ref data) && InternalKey.UserKey(data.Key).SequenceEqual(userKey))
            {
                var key = data.Key;
                kind = InternalKey.Kind(key);
                if (kind == EntryKind.Value)
                    value = data.Value.ToArray();
                else if (kind != EntryKind.Deletion)
                    throw new CorruptionException(_fileName, data.Block!.FileOffset, $"entry of unknown kind {(byte)kind}");
                return true;
            }

            // Nothing visible. Whether the filter erred depends on whether the key is here at all,
            // possibly only in versions newer than the snapshot: look for its newest version.
            InternalKey.Write(target, userKey, InternalKey.MaxSequence, EntryKind.Value);
            bool present = SeekFirstAtOrAfter(target, ref index, ref data) && InternalKey.UserKey(data.Key).SequenceEqual(userKey);
            if (!present)
                Interlocked.Increment(ref _counters.BloomFalsePositives);
            return false;
        }
        finally
        {
            index.ReleaseBuffer();
            data.ReleaseBuffer();
            if (rented is not null)
                ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>A two-level iterator over every entry; dispose it before the reader.</summary>
    public IInternalIterator NewIterator()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return new TableIterator(this);
    }

    /// <summary>
    /// The file offset of the data block that would hold <paramref name="internalKey"/>; the end of the data
    /// (the filter block's offset) for keys past the last entry.
    /// </summary>
    public long ApproximateOffsetOf(ReadOnlySpan<byte> internalKey)
    {
        var index = default(BlockCursor);
        try
        {
            index.Init(_index);
            index.Seek(internalKey);
            return index.Valid ? DecodeHandle(index.Value).Offset : _dataEnd;
        }
        finally
        {
            index.ReleaseBuffer();
        }
    }

    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        // The cache id dies with this reader, so its blocks could never be hit again: free their budget now.
        _cache.EraseOwner(_cacheId);
        _file.Dispose();
    }

    internal Block IndexBlock => _index;

    /// <summary>Decodes a data-block handle from an index entry's value and checks it lies inside the data region.</summary>
    internal BlockHandle DecodeHandle(ReadOnlySpan<byte> indexValue)
    {
        if (!BlockHandle.TryDecode(indexValue, out var handle, out int length) || length != indexValue.Length)
            throw new CorruptionException(_fileName, _index.FileOffset, "malformed block handle in the index");
        if (handle.Size > _dataEnd || handle.Offset > _dataEnd - handle.Size - TableFormat.BlockTrailerSize)
            throw new CorruptionException(_fileName, _index.FileOffset, $"index points at a block [{handle.Offset}, +{handle.Size}) outside the data region (ends at {_dataEnd})");
        return handle;
    }

    /// <summary>The data block at <paramref name="handle"/>, from the cache or else from the file (checksum verified).</summary>
    internal Block GetDataBlock(BlockHandle handle)
    {
        if (_cache.TryGet(_cacheId, handle.Offset, out object cached))
            return (Block)cached;
        var bytes = ReadBlock(_file, _fileName, handle, _dataEnd, "data");
        Interlocked.Add(ref _counters.BlockBytesRead, bytes.Length);
        var block = new Block(bytes, (int)handle.Size, _fileName, handle.Offset);
        _cache.Insert(_cacheId, handle.Offset, block, (int)handle.Size);
        return block;
    }

    /// <summary>Positions the cursors at the first entry ≥ <paramref name="target"/>; false if there is none.</summary>
    private bool SeekFirstAtOrAfter(ReadOnlySpan<byte> target, ref BlockCursor index, ref BlockCursor data)
    {
        index.Init(_index);
        index.Seek(target);
        while (index.Valid)
        {
            data.Init(GetDataBlock(DecodeHandle(index.Value)));
            data.Seek(target);
            if (data.Valid)
                return true;
            // The index key may be a separator above the block's last key: the answer is in a later block.
            index.Next();
        }
        return false;
    }

    /// <summary>
    /// Reads a block and its trailer with one read into a fresh array, and verifies type and checksum.
    /// The block must end (trailer included) at or before <paramref name="limit"/>.
    /// </summary>
    private static byte[] ReadBlock(IRandomAccessFile file, string fileName, BlockHandle handle, long limit, string what)
    {
        if (handle.Offset < 0 || handle.Size > limit || handle.Offset > limit - handle.Size - TableFormat.BlockTrailerSize
            || handle.Size + TableFormat.BlockTrailerSize > Array.MaxLength)
            throw new CorruptionException(fileName, handle.Offset, $"{what} block [{handle.Offset}, +{handle.Size}) lies outside its region (ends at {limit})");
        int size = (int)handle.Size;
        var bytes = new byte[size + TableFormat.BlockTrailerSize];
        if (file.Read(handle.Offset, bytes) != bytes.Length)
            throw new CorruptionException(fileName, handle.Offset, $"short read of {what} block");
        byte type = bytes[size];
        uint expected = Checksum.Unmask(Coding.ReadFixed32(bytes.AsSpan(size + 1)));
        uint actual = Checksum.Compute(bytes.AsSpan(0, size + 1));
        if (expected != actual)
            throw new CorruptionException(fileName, handle.Offset, $"{what} block checksum mismatch (stored {expected:x8}, computed {actual:x8})");
        if (type != TableFormat.UncompressedBlock)
            throw new CorruptionException(fileName, handle.Offset, $"{what} block has unsupported type {type}");
        return bytes;
    }
}
