using System.Buffers;
using System.Text;
using LsmRaft.Storage.Format;

namespace LsmRaft.Storage.Versions;

/// <summary>
/// One change to the set of live tables, stored as one manifest record (docs/formats/manifest.md).
/// Every field is optional. The encoding is a sequence of <c>tag:varint value</c> fields closed by the
/// <see cref="Tag.End"/> tag, so a decoder can tell a whole edit from a truncated one: every strict
/// prefix of an encoding fails to decode. New fields get new tags; an older build rejects an edit with a
/// tag it does not know rather than silently dropping state.
/// </summary>
internal sealed class VersionEdit
{
    /// <summary>Levels are numbered 0 to <see cref="MaxLevels"/> - 1 (the largest NumLevels the options accept).</summary>
    public const int MaxLevels = 12;

    /// <summary>The comparator this build writes and accepts.</summary>
    public const string BytewiseComparatorName = "lsmraft.bytewise";

    /// <summary>Field tags. Stable on disk: never renumber, never reuse.</summary>
    internal enum Tag : uint
    {
        End = 0,
        Comparator = 1,
        LogNumber = 2,
        NextFileNumber = 3,
        LastSequence = 4,
        AppliedIndex = 5,
        CompactPointer = 6,
        DeletedFile = 7,
        NewFile = 8,
    }

    public string? Comparator { get; set; }
    public ulong? LogNumber { get; set; }
    public ulong? NextFileNumber { get; set; }
    public ulong? LastSequence { get; set; }

    /// <summary>The last Raft log index applied before the flush this edit records; -1 means none.</summary>
    public long? AppliedIndex { get; set; }

    public List<(int Level, byte[] Key)> CompactPointers { get; } = new();
    public List<(int Level, ulong Number)> DeletedFiles { get; } = new();
    public List<(int Level, FileMetadata File)> NewFiles { get; } = new();

    /// <summary>Encodes the edit. Throws <see cref="ArgumentException"/> for a field the format cannot hold.</summary>
    public byte[] Encode()
    {
        var writer = new ArrayBufferWriter<byte>(64);
        if (Comparator is not null)
        {
            PutTag(writer, Tag.Comparator);
            PutBytes(writer, Encoding.UTF8.GetBytes(Comparator));
        }
        if (LogNumber is { } logNumber)
        {
            PutTag(writer, Tag.LogNumber);
            PutVarint(writer, logNumber);
        }
        if (NextFileNumber is { } nextFileNumber)
        {
            PutTag(writer, Tag.NextFileNumber);
            PutVarint(writer, nextFileNumber);
        }
        if (LastSequence is { } lastSequence)
        {
            PutTag(writer, Tag.LastSequence);
            PutVarint(writer, lastSequence);
        }
        if (AppliedIndex is { } appliedIndex)
        {
            if (appliedIndex < -1)
                throw new ArgumentException($"AppliedIndex {appliedIndex} is below -1 (none).");
            // Stored plus one so that "none" (-1) is 0 and the value stays an unsigned varint.
            PutTag(writer, Tag.AppliedIndex);
            PutVarint(writer, appliedIndex == -1 ? 0 : (ulong)appliedIndex + 1);
        }
        foreach (var (level, key) in CompactPointers)
        {
            CheckLevel(level);
            CheckInternalKey(key, "compact pointer");
            PutTag(writer, Tag.CompactPointer);
            PutVarint(writer, (ulong)level);
            PutBytes(writer, key);
        }
        foreach (var (level, number) in DeletedFiles)
        {
            CheckLevel(level);
            PutTag(writer, Tag.DeletedFile);
            PutVarint(writer, (ulong)level);
            PutVarint(writer, number);
        }
        foreach (var (level, file) in NewFiles)
        {
            CheckLevel(level);
            ArgumentNullException.ThrowIfNull(file);
            if (file.Size < 0)
                throw new ArgumentException($"Table {file.Number} has negative size {file.Size}.");
            CheckInternalKey(file.Smallest, "smallest key");
            CheckInternalKey(file.Largest, "largest key");
            PutTag(writer, Tag.NewFile);
            PutVarint(writer, (ulong)level);
            PutVarint(writer, file.Number);
            PutVarint(writer, (ulong)file.Size);
            PutBytes(writer, file.Smallest);
            PutBytes(writer, file.Largest);
            PutVarint(writer, file.SmallestSequence);
            PutVarint(writer, file.LargestSequence);
        }
        PutTag(writer, Tag.End);
        return writer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Decodes one manifest record. Throws <see cref="CorruptionException"/> naming <paramref name="fileName"/>
    /// (offsets are within the payload) for any malformed input: truncation, an unknown tag, a repeated
    /// single-valued field, an out-of-range value, or bytes after the end tag.
    /// </summary>
    public static VersionEdit Decode(ReadOnlySpan<byte> payload, string fileName)
    {
        var reader = new Reader(payload, fileName);
        var edit = new VersionEdit();
        while (true)
        {
            int tagOffset = reader.Position;
            ulong rawTag = reader.Varint("tag");
            switch ((Tag)rawTag)
            {
                case Tag.End:
                    if (reader.Position != payload.Length)
                        throw new CorruptionException(fileName, reader.Position, $"{payload.Length - reader.Position} bytes after the end of a version edit");
                    return edit;

                case Tag.Comparator:
                    reader.RequireUnset(edit.Comparator is null, tagOffset, "comparator");
                    var name = reader.Bytes("comparator name");
                    try
                    {
                        edit.Comparator = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(name);
                    }
                    catch (DecoderFallbackException)
                    {
                        throw new CorruptionException(fileName, tagOffset, "comparator name is not valid UTF-8");
                    }
                    break;

                case Tag.LogNumber:
                    reader.RequireUnset(edit.LogNumber is null, tagOffset, "log number");
                    edit.LogNumber = reader.Varint("log number");
                    break;

                case Tag.NextFileNumber:
                    reader.RequireUnset(edit.NextFileNumber is null, tagOffset, "next file number");
                    edit.NextFileNumber = reader.Varint("next file number");
                    break;

                case Tag.LastSequence:
                    reader.RequireUnset(edit.LastSequence is null, tagOffset, "last sequence");
                    edit.LastSequence = reader.Varint("last sequence");
                    break;

                case Tag.AppliedIndex:
                    reader.RequireUnset(edit.AppliedIndex is null, tagOffset, "applied index");
                    ulong stored = reader.Varint("applied index");
                    if (stored > (ulong)long.MaxValue + 1)
                        throw new CorruptionException(fileName, tagOffset, $"applied index {stored} (stored plus one) out of range");
                    edit.AppliedIndex = stored == 0 ? -1 : (long)(stored - 1);
                    break;

                case Tag.CompactPointer:
                    {
                        int level = reader.Level();
                        byte[] key = reader.InternalKey("compact pointer key");
                        edit.CompactPointers.Add((level, key));
                        break;
                    }

                case Tag.DeletedFile:
                    {
                        int level = reader.Level();
                        edit.DeletedFiles.Add((level, reader.Varint("deleted file number")));
                        break;
                    }

                case Tag.NewFile:
                    {
                        int level = reader.Level();
                        ulong number = reader.Varint("file number");
                        ulong size = reader.Varint("file size");
                        if (size > long.MaxValue)
                            throw new CorruptionException(fileName, tagOffset, $"file size {size} out of range");
                        byte[] smallest = reader.InternalKey("smallest key");
                        byte[] largest = reader.InternalKey("largest key");
                        ulong smallestSequence = reader.Varint("smallest sequence");
                        ulong largestSequence = reader.Varint("largest sequence");
                        edit.NewFiles.Add((level, new FileMetadata(number, (long)size, smallest, largest, smallestSequence, largestSequence)));
                        break;
                    }

                default:
                    throw new CorruptionException(fileName, tagOffset, $"unknown version edit tag {rawTag} (written by a newer build?)");
            }
        }
    }

    private static void CheckLevel(int level)
    {
        if (level is < 0 or >= MaxLevels)
            throw new ArgumentException($"Level {level} is outside 0..{MaxLevels - 1}.");
    }

    private static void CheckInternalKey(byte[] key, string what)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Length < Format.InternalKey.TrailerSize)
            throw new ArgumentException($"The {what} has {key.Length} bytes; an internal key has at least {Format.InternalKey.TrailerSize}.");
    }

    private static void PutTag(ArrayBufferWriter<byte> writer, Tag tag) => PutVarint(writer, (ulong)tag);

    private static void PutVarint(ArrayBufferWriter<byte> writer, ulong value)
    {
        int n = Coding.WriteVarint(writer.GetSpan(Coding.MaxVarint64Length), value);
        writer.Advance(n);
    }

    private static void PutBytes(ArrayBufferWriter<byte> writer, ReadOnlySpan<byte> bytes)
    {
        PutVarint(writer, (ulong)bytes.Length);
        writer.Write(bytes);
    }

    /// <summary>A bounds-checked cursor: every failure is a <see cref="CorruptionException"/>.</summary>
    private ref struct Reader
    {
        private readonly ReadOnlySpan<byte> _data;
        private readonly string _fileName;

        public Reader(ReadOnlySpan<byte> data, string fileName)
        {
            _data = data;
            _fileName = fileName;
            Position = 0;
        }

        public int Position { get; private set; }

        public ulong Varint(string what)
        {
            if (!Coding.TryReadVarint(_data[Position..], out ulong value, out int length))
                throw Truncated(what);
            Position += length;
            return value;
        }

        public ReadOnlySpan<byte> Bytes(string what)
        {
            int start = Position;
            if (!Coding.TryReadLength(_data[Position..], out int length, out int prefix))
                throw Truncated(what);
            if (length > _data.Length - Position - prefix)
                throw new CorruptionException(_fileName, start, $"{what} of {length} bytes runs past the end of the record");
            Position += prefix;
            var bytes = _data.Slice(Position, length);
            Position += length;
            return bytes;
        }

        public byte[] InternalKey(string what)
        {
            int start = Position;
            var key = Bytes(what);
            if (key.Length < Format.InternalKey.TrailerSize)
                throw new CorruptionException(_fileName, start, $"{what} of {key.Length} bytes is shorter than an internal key trailer");
            return key.ToArray();
        }

        public int Level()
        {
            int start = Position;
            ulong level = Varint("level");
            if (level >= MaxLevels)
                throw new CorruptionException(_fileName, start, $"level {level} is outside 0..{MaxLevels - 1}");
            return (int)level;
        }

        public readonly void RequireUnset(bool unset, int tagOffset, string what)
        {
            if (!unset)
                throw new CorruptionException(_fileName, tagOffset, $"{what} appears twice in one version edit");
        }

        private readonly CorruptionException Truncated(string what) =>
            new(_fileName, Position, $"version edit truncated or malformed while reading the {what}");
    }
}
