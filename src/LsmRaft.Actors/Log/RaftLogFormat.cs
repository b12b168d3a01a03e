using LsmRaft.Shared;
using System.Globalization;
using LsmRaft.Raft;
using LsmRaft.Storage.Format;

namespace LsmRaft.Actors.Log;

/// <summary>Record types of the node log; see docs/formats/raft-log.md.</summary>
internal enum RecordType : byte
{
    Entries = 1,
    HardState = 2,
    Truncate = 3,
    Compact = 4,
    Forget = 5,
}

/// <summary>
/// One decoded (or about to be written) record. For <see cref="RecordType.Entries"/>, <see cref="Index"/> is
/// the first index and <see cref="Locations"/> holds each entry's term and byte range; for Truncate it is
/// the first dropped index; for Compact the last dropped index (with <see cref="Term"/>, 0 when unknown).
/// </summary>
internal sealed class LogRecord
{
    public RecordType Type { get; init; }
    public ulong Group { get; init; }
    public ulong Index { get; init; }
    public ulong Term { get; init; }
    public HardState HardState { get; init; }
    public List<(ulong Term, long Offset, int Length)> Locations { get; } = [];

    /// <summary>The entries themselves when the record was built by the writer (they feed the cache).</summary>
    public IReadOnlyList<Entry>? Entries { get; init; }
}

/// <summary>
/// Encoding of segment headers, records and entries. All integers are fixed-width little-endian.
/// Segment: [magic "LSMRAFTL"][version u32 = 1][reserved u32 = 0] then records.
/// Record: [length u32][masked crc32c u32][type u8][groupId u64][payload]; length counts type, group and
/// payload; the checksum covers the same bytes.
/// </summary>
internal static class RaftLogFormat
{
    public const uint Version = 1;
    public const int HeaderSize = 16;
    public const int RecordHeaderSize = 8;
    public const int RecordPrefixSize = 9;
    public const int EntryHeaderSize = 13;
    public const string Extension = ".rlog";

    public static ReadOnlySpan<byte> Magic => "LSMRAFTL"u8;

    public static string SegmentName(long number) => number.ToString("D6", CultureInfo.InvariantCulture) + Extension;

    public static bool TryParseSegmentName(string name, out long number)
    {
        number = 0;
        return name.EndsWith(Extension, StringComparison.Ordinal)
            && long.TryParse(name.AsSpan(0, name.Length - Extension.Length), NumberStyles.None, CultureInfo.InvariantCulture, out number)
            && number > 0;
    }

    public static void WriteHeader(Span<byte> destination)
    {
        Magic.CopyTo(destination);
        Coding.WriteFixed32(destination[8..], Version);
        Coding.WriteFixed32(destination[12..], 0);
    }

    public static string? CheckHeader(ReadOnlySpan<byte> data)
    {
        if (data.Length < HeaderSize)
            return "segment shorter than its header";
        if (!data[..8].SequenceEqual(Magic))
            return "bad magic (not a raft log segment)";
        uint version = Coding.ReadFixed32(data[8..]);
        if (version != Version)
            return $"unsupported version {version} (this build reads version {Version})";
        return Coding.ReadFixed32(data[12..]) == 0 ? null : "reserved header field is not zero";
    }

    /// <summary>
    /// Decodes the record at <paramref name="offset"/> of a whole segment image. Returns null and a reason
    /// when the bytes there are not a complete, checksummed, well-formed record.
    /// </summary>
    public static LogRecord? TryDecode(ReadOnlySpan<byte> data, int offset, out int next, out string detail)
    {
        next = offset;
        int remaining = data.Length - offset;
        if (remaining < RecordHeaderSize + RecordPrefixSize)
        {
            detail = "incomplete record header";
            return null;
        }
        uint length = Coding.ReadFixed32(data[offset..]);
        if (length < RecordPrefixSize || length > (uint)(remaining - RecordHeaderSize))
        {
            detail = $"record length {length} does not fit the segment";
            return null;
        }
        var body = data.Slice(offset + RecordHeaderSize, (int)length);
        if (Checksum.Unmask(Coding.ReadFixed32(data[(offset + 4)..])) != Checksum.Compute(body))
        {
            detail = "record checksum mismatch";
            return null;
        }
        var type = (RecordType)body[0];
        ulong group = Coding.ReadFixed64(body[1..]);
        var payload = body[RecordPrefixSize..];
        int payloadStart = offset + RecordHeaderSize + RecordPrefixSize;
        LogRecord? record = type switch
        {
            RecordType.Entries => DecodeEntries(group, payload, payloadStart),
            RecordType.HardState when payload.Length == 24 => new LogRecord
            {
                Type = type,
                Group = group,
                HardState = new HardState(Coding.ReadFixed64(payload), Coding.ReadFixed64(payload[8..]), Coding.ReadFixed64(payload[16..])),
            },
            RecordType.Truncate when payload.Length == 8 => new LogRecord { Type = type, Group = group, Index = Coding.ReadFixed64(payload) },
            RecordType.Compact when payload.Length == 16 => new LogRecord
            {
                Type = type,
                Group = group,
                Index = Coding.ReadFixed64(payload),
                Term = Coding.ReadFixed64(payload[8..]),
            },
            RecordType.Forget when payload.Length == 0 => new LogRecord { Type = type, Group = group },
            _ => null,
        };
        detail = record is null ? $"malformed record of type {(byte)type}" : "";
        if (record is not null)
            next = offset + RecordHeaderSize + (int)length;
        return record;
    }

    /// <summary>Decodes one entry's bytes (as located by the index) into an <see cref="Entry"/>.</summary>
    public static Entry DecodeEntry(ReadOnlySpan<byte> bytes, ulong index, string file, long offset)
    {
        if (bytes.Length < EntryHeaderSize || Coding.ReadFixed32(bytes[9..]) != bytes.Length - EntryHeaderSize || bytes[8] > (byte)EntryType.ConfChange)
            throw new LsmRaft.Storage.CorruptionException(file, offset, $"entry {index} does not decode");
        return new Entry(Coding.ReadFixed64(bytes), index, (EntryType)bytes[8], bytes[EntryHeaderSize..].ToArray());
    }

    private static LogRecord? DecodeEntries(ulong group, ReadOnlySpan<byte> payload, int payloadStart)
    {
        if (payload.Length < 12)
            return null;
        var record = new LogRecord { Type = RecordType.Entries, Group = group, Index = Coding.ReadFixed64(payload) };
        uint count = Coding.ReadFixed32(payload[8..]);
        int at = 12;
        for (uint i = 0; i < count; i++)
        {
            if (payload.Length - at < EntryHeaderSize || payload[at + 8] > (byte)EntryType.ConfChange)
                return null;
            uint dataLength = Coding.ReadFixed32(payload[(at + 9)..]);
            if (dataLength > (uint)(payload.Length - at - EntryHeaderSize))
                return null;
            int length = EntryHeaderSize + (int)dataLength;
            record.Locations.Add((Coding.ReadFixed64(payload[at..]), payloadStart + at, length));
            at += length;
        }
        return at == payload.Length && count > 0 ? record : null;
    }
}

/// <summary>Builds a batch of records in one growable buffer; offsets are relative to the batch start.</summary>
internal sealed class RecordWriter
{
    private byte[] _buffer = new byte[64 * 1024];
    private int _recordStart = -1;

    public int Length { get; private set; }

    public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, Length);

    public void Reset() => Length = 0;

    public LogRecord AddEntries(ulong group, IReadOnlyList<Entry> entries)
    {
        var record = new LogRecord { Type = RecordType.Entries, Group = group, Index = entries[0].Index, Entries = entries };
        Begin(RecordType.Entries, group);
        Coding.WriteFixed64(Grow(8), entries[0].Index);
        Coding.WriteFixed32(Grow(4), (uint)entries.Count);
        foreach (var entry in entries)
        {
            int start = Length;
            var header = Grow(RaftLogFormat.EntryHeaderSize);
            Coding.WriteFixed64(header, entry.Term);
            header[8] = (byte)entry.Type;
            Coding.WriteFixed32(header[9..], (uint)entry.Data.Length);
            entry.Data.CopyTo(Grow(entry.Data.Length));
            record.Locations.Add((entry.Term, start, Length - start));
        }
        End();
        return record;
    }

    public LogRecord AddHardState(ulong group, HardState state)
    {
        Begin(RecordType.HardState, group);
        var span = Grow(24);
        Coding.WriteFixed64(span, state.Term);
        Coding.WriteFixed64(span[8..], state.Vote);
        Coding.WriteFixed64(span[16..], state.Commit);
        End();
        return new LogRecord { Type = RecordType.HardState, Group = group, HardState = state };
    }

    public LogRecord AddTruncate(ulong group, ulong fromIndex)
    {
        Begin(RecordType.Truncate, group);
        Coding.WriteFixed64(Grow(8), fromIndex);
        End();
        return new LogRecord { Type = RecordType.Truncate, Group = group, Index = fromIndex };
    }

    public LogRecord AddCompact(ulong group, ulong throughIndex, ulong term)
    {
        Begin(RecordType.Compact, group);
        var span = Grow(16);
        Coding.WriteFixed64(span, throughIndex);
        Coding.WriteFixed64(span[8..], term);
        End();
        return new LogRecord { Type = RecordType.Compact, Group = group, Index = throughIndex, Term = term };
    }

    public LogRecord AddForget(ulong group)
    {
        Begin(RecordType.Forget, group);
        End();
        return new LogRecord { Type = RecordType.Forget, Group = group };
    }

    private void Begin(RecordType type, ulong group)
    {
        _recordStart = Length;
        var span = Grow(RaftLogFormat.RecordHeaderSize + RaftLogFormat.RecordPrefixSize);
        span[8] = (byte)type;
        Coding.WriteFixed64(span[9..], group);
    }

    private void End()
    {
        var record = _buffer.AsSpan(_recordStart, Length - _recordStart);
        var body = record[RaftLogFormat.RecordHeaderSize..];
        Coding.WriteFixed32(record, (uint)body.Length);
        Coding.WriteFixed32(record[4..], Checksum.Mask(Checksum.Compute(body)));
    }

    private Span<byte> Grow(int count)
    {
        if (Length + count > _buffer.Length)
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, Length + count));
        var span = _buffer.AsSpan(Length, count);
        Length += count;
        return span;
    }
}
