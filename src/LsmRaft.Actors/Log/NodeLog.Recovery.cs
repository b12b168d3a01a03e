using LsmRaft.Storage;
using LsmRaft.Storage.IO;

namespace LsmRaft.Actors.Log;

/// <summary>Recovery: replays every segment in order to rebuild the index; cuts a torn tail off the last one.</summary>
internal sealed partial class NodeLog
{
    private const string TempSuffix = AtomicFile.TempSuffix;

    private void Recover()
    {
        var names = _fs.ListFiles(_directory);
        foreach (string name in names)
            if (name.EndsWith(RaftLogFormat.Extension + TempSuffix, StringComparison.Ordinal))
                _fs.Delete(PathOf(_directory, name)); // an interrupted tail rewrite; the original is intact

        var numbers = names
            .Select(n => RaftLogFormat.TryParseSegmentName(n, out long number) ? number : 0)
            .Where(n => n > 0)
            .Order()
            .ToArray();
        for (int i = 0; i < numbers.Length; i++)
        {
            string path = SegmentPath(numbers[i]);
            byte[] data = _fs.ReadAllBytes(path);
            bool last = i == numbers.Length - 1;
            int valid = ReplaySegment(numbers[i], path, data, last);
            if (valid == data.Length && valid >= RaftLogFormat.HeaderSize)
            {
                _segments.Add(numbers[i]);
                continue;
            }
            // Only the last segment can have a torn tail. Cut it off now: once a newer segment exists,
            // garbage here would read as corruption on the next open.
            if (valid <= RaftLogFormat.HeaderSize)
            {
                _fs.Delete(path);
            }
            else
            {
                RewritePrefix(path, data.AsSpan(0, valid));
                _segments.Add(numbers[i]);
            }
            _fs.SyncDirectory(_directory);
        }
        // Entries before a group's first surviving record lived in deleted segments, which only happens
        // once they were compacted; restore the invariant Start == Compacted + 1.
        foreach (var group in _groups.Values)
        {
            if (group.Entries.Count == 0)
                group.Start = group.Compacted + 1;
            else if (group.Start > group.Compacted + 1)
                (group.Compacted, group.CompactedTerm) = (group.Start - 1, 0);
        }
    }

    /// <summary>Applies every record of one segment; returns the length of its valid prefix.</summary>
    private int ReplaySegment(long number, string path, byte[] data, bool last)
    {
        if (RaftLogFormat.CheckHeader(data) is { } headerProblem)
        {
            // A header is synced before any record is written, so only a crash right after creating the
            // last segment can leave it incomplete, and then nothing follows it.
            if (last && data.Length <= RaftLogFormat.HeaderSize)
                return 0;
            throw new CorruptionException(path, 0, headerProblem);
        }
        int offset = RaftLogFormat.HeaderSize;
        while (offset < data.Length)
        {
            var record = RaftLogFormat.TryDecode(data, offset, out int next, out string detail);
            if (record is null)
            {
                if (last && !AnyValidRecordAfter(data, offset + 1))
                    return offset; // torn tail: the unsynced end of the last write
                throw new CorruptionException(path, offset, detail + " (valid records follow, so this is not a torn tail)");
            }
            Apply(record, number, 0);
            offset = next;
        }
        return offset;
    }

    /// <summary>
    /// True when a complete, checksummed record starts anywhere at or after <paramref name="from"/>. A torn
    /// write only ever damages the end of the file, so a valid record after a bad one means corruption.
    /// </summary>
    private static bool AnyValidRecordAfter(byte[] data, int from)
    {
        int minimum = RaftLogFormat.RecordHeaderSize + RaftLogFormat.RecordPrefixSize;
        for (int p = from; p + minimum <= data.Length; p++)
        {
            byte type = data[p + RaftLogFormat.RecordHeaderSize];
            if (type is < (byte)RecordType.Entries or > (byte)RecordType.Forget)
                continue; // cheap filter before the checksum
            if (RaftLogFormat.TryDecode(data, p, out _, out _) is not null)
                return true;
        }
        return false;
    }

    private void RewritePrefix(string path, ReadOnlySpan<byte> prefix)
    {
        _fs.WriteAtomically(path, prefix);
        Interlocked.Increment(ref _syncCount);
    }
}
