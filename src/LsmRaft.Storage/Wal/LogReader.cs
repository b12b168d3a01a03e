using System.Buffers.Binary;
using LsmRaft.Storage.IO;

namespace LsmRaft.Storage.Wal;

/// <summary>
/// Reads the records of a log written by <see cref="LogWriter"/> (docs/formats/wal.md), one 32 KiB block at
/// a time. Owns <c>file</c> and disposes it. Not thread-safe.
/// <para>
/// Tail rule. A crash can leave the last write incomplete (a torn tail) but never damages bytes that
/// precede it. So when the reader meets an incomplete record or a fragment that fails its checksum or
/// framing, it looks for any valid fragment later in the file: if there is none, the damage is a torn
/// tail, and the reader stops cleanly with <see cref="TornTail"/> set and <see cref="ValidLength"/> just
/// after the last good record; if there is one, the damage sits before data that was written later, and
/// the reader throws <see cref="CorruptionException"/>. "Later" means: the fragments reached from the bad
/// one by following header lengths inside its block, and those reached the same way from every
/// following block start (a block always starts with a fragment header, because fragments never cross
/// block boundaries). The reader never scans byte by byte for fragment headers, so a record whose payload
/// happens to contain a copy of a log cannot make a torn tail look like corruption. The price: a damaged
/// length field in the final block is indistinguishable from a torn write and is reported as a torn tail.
/// </para>
/// <para>
/// An empty file, or one that ends inside the file header record, is a log whose first write was torn:
/// no records, <see cref="TornTail"/> true, <see cref="ValidLength"/> 0. A complete first record that is
/// not a valid file header (wrong type, size, magic or version) is corruption.
/// </para>
/// </summary>
internal sealed class LogReader : IDisposable
{
    private readonly IRandomAccessFile _file;
    private readonly string _fileName;
    private readonly long _fileLength;

    // The block being read: file bytes [_blockStart, _blockStart + _blockLength); _position indexes into it.
    private readonly byte[] _block = new byte[LogFormat.BlockSize];
    private long _blockStart;
    private int _blockLength;
    private int _position;

    // Reassembly buffer for records made of several fragments; reused across records.
    private byte[] _record = new byte[LogFormat.BlockSize];
    private int _recordLength;

    private bool _headerRead;
    private bool _finished;
    private CorruptionException? _failure;
    private bool _disposed;
    private readonly bool _strictTail;

    /// <param name="file">The log file; owned and disposed by the reader.</param>
    /// <param name="fileName">Named in <see cref="CorruptionException"/>s.</param>
    /// <param name="strictTail">
    /// When true (the manifest), a complete fragment that fails its checksum is corruption even at the end of
    /// the file: only an incomplete or zero-filled tail counts as torn. A synced manifest edit that later
    /// reads back damaged must stop the open (its effects, such as deleted files, already happened) rather
    /// than be silently dropped. The WAL keeps the tolerant rule (false), as LevelDB and RocksDB do.
    /// </param>
    public LogReader(IRandomAccessFile file, string fileName, bool strictTail = false)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(fileName);
        _strictTail = strictTail;
        _file = file;
        _fileName = fileName;
        _fileLength = file.Length;
        _blockStart = 0;
        _blockLength = ReadBlockAt(0, _block);
    }

    /// <summary>True once the reader has stopped at an incomplete or damaged last write.</summary>
    public bool TornTail { get; private set; }

    /// <summary>
    /// File offset just after the last good record returned (or after the file header; 0 when even the
    /// header is missing). Truncating the file here removes a torn tail and nothing else.
    /// </summary>
    public long ValidLength { get; private set; }

    /// <summary>
    /// Reads the next whole record. Returns false at the end of the log (clean or torn, see
    /// <see cref="TornTail"/>). <paramref name="record"/> points into the reader's buffers and is valid only
    /// until the next call or <see cref="Dispose"/>; copy it to keep it. Throws
    /// <see cref="CorruptionException"/> (again on every later call) when damage precedes valid data or
    /// the file header is wrong.
    /// </summary>
    public bool TryReadRecord(out ReadOnlyMemory<byte> record)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_failure is not null)
            throw _failure;
        record = default;
        if (_finished)
            return false;
        try
        {
            if (!_headerRead)
            {
                if (!ReadLogicalRecord(out var header, out var headerType, out long headerOffset))
                {
                    // A file longer than the header record with no valid header cannot be a torn first write
                    // (the header is a prefix of everything written after it): it is not a log, or it is damaged.
                    if (_fileLength > LogFormat.HeaderSize + LogFormat.FileHeaderPayloadSize)
                        throw new CorruptionException(_fileName, 0, "the log file header is damaged or missing but the file holds more data (is this a log file?)");
                    // Even an empty file is a torn log: the header is the first write of every log.
                    TornTail = true;
                    return false;
                }
                ValidateHeader(header.Span, headerType, headerOffset);
                _headerRead = true;
            }
            return ReadLogicalRecord(out record, out _, out _);
        }
        catch (CorruptionException e)
        {
            _failure = e;
            _finished = true;
            throw;
        }
    }

    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        _file.Dispose();
    }

    private void ValidateHeader(ReadOnlySpan<byte> payload, FragmentType type, long offset)
    {
        if (offset != 0 || type != FragmentType.Full || payload.Length != LogFormat.FileHeaderPayloadSize)
            throw new CorruptionException(_fileName, offset, "the log does not start with its file header record (is this a log file?)");
        if (!payload[..LogFormat.Magic.Length].SequenceEqual(LogFormat.Magic))
            throw new CorruptionException(_fileName, 0, "bad magic in the log file header (is this a log file?)");
        uint version = BinaryPrimitives.ReadUInt32LittleEndian(payload[LogFormat.Magic.Length..]);
        if (version != LogFormat.Version)
            throw new CorruptionException(_fileName, 0, $"unsupported log format version {version}; this build reads version {LogFormat.Version}");
    }

    /// <summary>
    /// Assembles the next record. <paramref name="firstType"/> and <paramref name="offset"/> describe its
    /// first fragment. Returns false (and finishes) at the end of the log.
    /// </summary>
    private bool ReadLogicalRecord(out ReadOnlyMemory<byte> record, out FragmentType firstType, out long offset)
    {
        record = default;
        firstType = FragmentType.Zero;
        offset = -1;
        bool inRecord = false;
        _recordLength = 0;
        while (true)
        {
            var result = ReadFragment(out var type, out int payloadStart, out int payloadLength, out long fragmentOffset);
            switch (result)
            {
                case FragmentResult.EndOfFile:
                    // A record still open here lost its later fragments to the crash: a torn tail.
                    TornTail = inRecord;
                    _finished = true;
                    return false;

                case FragmentResult.Truncated:
                    // The fragment runs past the end of the file, so nothing follows it.
                    TornTail = true;
                    _finished = true;
                    return false;

                case FragmentResult.Bad:
                    if (_strictTail && !IsZeroHeader(fragmentOffset))
                        throw new CorruptionException(_fileName, fragmentOffset, "a complete record fails its checksum (a synced manifest edit is damaged)");
                    if (AnyValidFragmentAfter(fragmentOffset))
                        throw new CorruptionException(_fileName, fragmentOffset, "fragment fails its checksum or framing and is followed by valid data");
                    TornTail = true;
                    _finished = true;
                    return false;
            }

            long fragmentEnd = fragmentOffset + LogFormat.HeaderSize + payloadLength;
            switch (type)
            {
                case FragmentType.Full:
                    if (inRecord)
                        throw Unterminated(offset);
                    firstType = type;
                    offset = fragmentOffset;
                    record = _block.AsMemory(payloadStart, payloadLength);
                    ValidLength = fragmentEnd;
                    return true;

                case FragmentType.First:
                    if (inRecord)
                        throw Unterminated(offset);
                    inRecord = true;
                    firstType = type;
                    offset = fragmentOffset;
                    Append(payloadStart, payloadLength);
                    break;

                case FragmentType.Middle:
                    if (!inRecord)
                        throw new CorruptionException(_fileName, fragmentOffset, "MIDDLE fragment without a FIRST fragment before it");
                    Append(payloadStart, payloadLength);
                    break;

                case FragmentType.Last:
                    if (!inRecord)
                        throw new CorruptionException(_fileName, fragmentOffset, "LAST fragment without a FIRST fragment before it");
                    Append(payloadStart, payloadLength);
                    record = _record.AsMemory(0, _recordLength);
                    ValidLength = fragmentEnd;
                    return true;
            }
        }
    }

    private CorruptionException Unterminated(long recordOffset) =>
        new(_fileName, recordOffset, "record has a FIRST fragment but no LAST fragment, and valid data follows it");

    private void Append(int start, int length)
    {
        if (_recordLength + length > _record.Length)
            Array.Resize(ref _record, Math.Max(_record.Length * 2, _recordLength + length));
        _block.AsSpan(start, length).CopyTo(_record.AsSpan(_recordLength));
        _recordLength += length;
    }

    private enum FragmentResult
    {
        Good,
        EndOfFile,
        Truncated,
        Bad,
    }

    /// <summary>Parses the fragment at the current position, moving to the next block as needed.</summary>
    private FragmentResult ReadFragment(out FragmentType type, out int payloadStart, out int payloadLength, out long fragmentOffset)
    {
        type = FragmentType.Zero;
        payloadStart = 0;
        payloadLength = 0;
        while (true)
        {
            fragmentOffset = _blockStart + _position;
            if (LogFormat.BlockSize - _position < LogFormat.HeaderSize)
            {
                // Block tail too short for a header: writer padding (or, past the file end, nothing).
                if (_blockLength < LogFormat.BlockSize)
                    return FragmentResult.EndOfFile;
                _blockStart += LogFormat.BlockSize;
                _blockLength = ReadBlockAt(_blockStart, _block);
                _position = 0;
                continue;
            }

            int available = _blockLength - _position;
            if (available == 0)
                return FragmentResult.EndOfFile;
            if (available < LogFormat.HeaderSize)
                return FragmentResult.Truncated;

            var status = Classify(_block.AsSpan(0, _blockLength), _position, out type, out payloadLength);
            if (status != FragmentResult.Good)
                return status;
            payloadStart = _position + LogFormat.HeaderSize;
            _position = payloadStart + payloadLength;
            return FragmentResult.Good;
        }
    }

    /// <summary>
    /// Judges the fragment whose header starts at <paramref name="position"/> of <paramref name="block"/>
    /// (the file's bytes of one block; requires a whole header to fit in both the block and the data).
    /// </summary>
    private static FragmentResult Classify(ReadOnlySpan<byte> block, int position, out FragmentType type, out int payloadLength)
    {
        var header = block.Slice(position, LogFormat.HeaderSize);
        uint storedChecksum = BinaryPrimitives.ReadUInt32LittleEndian(header);
        payloadLength = BinaryPrimitives.ReadUInt16LittleEndian(header[4..]);
        type = (FragmentType)header[6];
        if (position + LogFormat.HeaderSize + payloadLength > LogFormat.BlockSize)
            return FragmentResult.Bad; // a writer never lets a fragment cross a block boundary
        if (position + LogFormat.HeaderSize + payloadLength > block.Length)
            return FragmentResult.Truncated;
        if (!LogFormat.IsKnownType((byte)type))
            return FragmentResult.Bad;
        var payload = block.Slice(position + LogFormat.HeaderSize, payloadLength);
        return LogFormat.FragmentChecksum(type, payload) == storedChecksum ? FragmentResult.Good : FragmentResult.Bad;
    }

    /// <summary>True when the header at <paramref name="offset"/> (in the current block) is all zeros: space the file system allocated but never wrote.</summary>
    private bool IsZeroHeader(long offset)
    {
        int position = (int)(offset - _blockStart);
        if (position < 0 || position + LogFormat.HeaderSize > _blockLength)
            return true;
        return !_block.AsSpan(position, LogFormat.HeaderSize).ContainsAnyExcept((byte)0);
    }

    /// <summary>Implements the "followed by any valid fragment" test of the tail rule (see the type summary).</summary>
    private bool AnyValidFragmentAfter(long badOffset)
    {
        long blockStart = badOffset - badOffset % LogFormat.BlockSize;
        var scratch = new byte[LogFormat.BlockSize];
        int length = ReadBlockAt(blockStart, scratch);
        int badPosition = (int)(badOffset - blockStart);
        int badLength = BinaryPrimitives.ReadUInt16LittleEndian(scratch.AsSpan(badPosition + 4));
        int next = badPosition + LogFormat.HeaderSize + badLength;
        if (next <= length && ChainHasValidFragment(scratch.AsSpan(0, length), next))
            return true;

        for (blockStart += LogFormat.BlockSize; blockStart < _fileLength; blockStart += LogFormat.BlockSize)
        {
            length = ReadBlockAt(blockStart, scratch);
            if (ChainHasValidFragment(scratch.AsSpan(0, length), 0))
                return true;
        }
        return false;
    }

    /// <summary>Follows header lengths from <paramref name="position"/> to the end of the block, looking for a valid fragment.</summary>
    private static bool ChainHasValidFragment(ReadOnlySpan<byte> block, int position)
    {
        while (LogFormat.BlockSize - position >= LogFormat.HeaderSize && block.Length - position >= LogFormat.HeaderSize)
        {
            var status = Classify(block, position, out _, out int payloadLength);
            if (status == FragmentResult.Good)
                return true;
            if (status == FragmentResult.Truncated || position + LogFormat.HeaderSize + payloadLength > LogFormat.BlockSize)
                return false;
            position += LogFormat.HeaderSize + payloadLength;
        }
        return false;
    }

    private int ReadBlockAt(long offset, byte[] buffer)
    {
        int want = (int)Math.Min(LogFormat.BlockSize, Math.Max(0, _fileLength - offset));
        int read = want == 0 ? 0 : _file.Read(offset, buffer.AsSpan(0, want));
        if (read != want)
            throw new IOException($"Short read from '{_fileName}' at offset {offset}: expected {want} bytes, got {read}.");
        return read;
    }
}
