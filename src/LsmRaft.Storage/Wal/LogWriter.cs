using System.Buffers.Binary;
using LsmRaft.Storage.IO;

namespace LsmRaft.Storage.Wal;

/// <summary>
/// Appends records to a log file in the format of docs/formats/wal.md. Owns <c>file</c> and disposes it.
/// Not thread-safe: one writer per file. After an exception from the file the writer must be abandoned,
/// because a partially appended record may sit at the end of the file.
/// </summary>
internal sealed class LogWriter : IDisposable
{
    private readonly IWritableFile _file;

    // Staging area for one fragment (padding + header + payload <= BlockSize + HeaderSize - 1), so each
    // fragment is a single Append and AddRecord never allocates.
    private readonly byte[] _stage = new byte[LogFormat.BlockSize + LogFormat.HeaderSize];

    // Invariant: _blockOffset == file length modulo BlockSize.
    private int _blockOffset;
    private bool _disposed;

    /// <summary>Starts a new log in the empty <paramref name="file"/> and writes the file header record.</summary>
    public LogWriter(IWritableFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        if (file.Length != 0)
            throw new ArgumentException($"A log must start in an empty file; this one already holds {file.Length} bytes.", nameof(file));
        _file = file;
        Span<byte> header = stackalloc byte[LogFormat.FileHeaderPayloadSize];
        LogFormat.Magic.CopyTo(header);
        BinaryPrimitives.WriteUInt32LittleEndian(header[LogFormat.Magic.Length..], LogFormat.Version);
        AddRecord(header);
    }

    /// <summary>Bytes appended so far, header and padding included.</summary>
    public long Length => _file.Length;

    /// <summary>Appends <paramref name="payload"/> as one record (split into fragments at block boundaries). Any length, including zero.</summary>
    public void AddRecord(ReadOnlySpan<byte> payload)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        bool first = true;
        do
        {
            int staged = 0;
            int leftover = LogFormat.BlockSize - _blockOffset;
            if (leftover < LogFormat.HeaderSize)
            {
                // Too small for a header: zero-fill the block tail; readers skip it.
                _stage.AsSpan(0, leftover).Clear();
                staged = leftover;
                _blockOffset = 0;
                leftover = LogFormat.BlockSize;
            }

            int fragmentLength = Math.Min(payload.Length, leftover - LogFormat.HeaderSize);
            bool last = fragmentLength == payload.Length;
            var type = (first, last) switch
            {
                (true, true) => FragmentType.Full,
                (true, false) => FragmentType.First,
                (false, false) => FragmentType.Middle,
                (false, true) => FragmentType.Last,
            };
            var fragment = payload[..fragmentLength];

            var header = _stage.AsSpan(staged, LogFormat.HeaderSize);
            BinaryPrimitives.WriteUInt32LittleEndian(header, LogFormat.FragmentChecksum(type, fragment));
            BinaryPrimitives.WriteUInt16LittleEndian(header[4..], (ushort)fragmentLength);
            header[6] = (byte)type;
            fragment.CopyTo(_stage.AsSpan(staged + LogFormat.HeaderSize));
            _file.Append(_stage.AsSpan(0, staged + LogFormat.HeaderSize + fragmentLength));

            _blockOffset += LogFormat.HeaderSize + fragmentLength;
            payload = payload[fragmentLength..];
            first = false;
        }
        while (!payload.IsEmpty);
    }

    /// <summary>Hands buffered bytes to the operating system.</summary>
    public void Flush()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _file.Flush();
    }

    /// <summary>Makes every record added so far durable.</summary>
    public void Sync()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _file.Sync();
    }

    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        _file.Dispose();
    }
}
