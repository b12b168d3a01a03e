using System.Buffers.Binary;
using LsmRaft.Storage.Memtable;
using LsmRaft.Storage.Versions;
using LsmRaft.Storage.Wal;

namespace LsmRaft.Storage;

// Opening: load the manifest (or create one), replay WAL files newer than the manifest's log number
// into tables, start a fresh manifest and WAL, and delete files a crash orphaned.
public sealed partial class LsmEngine
{
    private void Recover()
    {
        bool exists = _versions.Exists();
        if (exists)
            _versions.Recover();

        var names = _fs.ListFiles(_directory);
        var present = new HashSet<string>(names, StringComparer.Ordinal);
        var missing = _versions.Current.Levels.SelectMany(l => l).Select(f => FileMetadata.TableFileName(f.Number)).Where(n => !present.Contains(n)).ToList();
        if (missing.Count > 0)
            throw new CorruptionException(missing[0], 0, $"{missing.Count} table(s) listed in the manifest are missing ({string.Join(", ", missing.Take(5))}); restore them or the database from a backup");
        var wals = new List<ulong>();
        foreach (var name in names)
        {
            if (!TryParseFileName(name, out ulong number, out var type))
                continue;
            _versions.MarkFileNumberUsed(number);
            if (type == FileType.Wal && number >= _versions.LogNumber)
                wals.Add(number);
        }
        if (!exists && names.Any(n => TryParseFileName(n, out _, out var t) && t is FileType.Table or FileType.Manifest))
            throw new CorruptionException("CURRENT", 0, $"is missing but '{_directory}' holds tables or manifests; refusing to start over a damaged database");
        wals.Sort();

        // Replay into memtables and flush each to a table, so the new WAL starts empty and old WALs can go.
        var edit = new VersionEdit();
        ulong maxSequence = _versions.LastSequence;
        foreach (ulong number in wals)
        {
            var mem = new MemTable(number);
            maxSequence = ReplayWal(number, mem, maxSequence);
            if (!mem.IsEmpty)
            {
                var table = WriteLevel0Table(mem);
                edit.NewFiles.Add((0, table));
            }
        }
        _versions.LastSequence = maxSequence;
        Volatile.Write(ref _lastSequence, maxSequence);

        ulong walNumber = 0;
        if (_options.EnableWal)
        {
            walNumber = _versions.NewFileNumber();
            _walFile = _fs.Create(Path.Combine(_directory, WalFileName(walNumber)));
            _wal = new LogWriter(_walFile);
            _wal.Sync();
        }
        _mem = new MemTable(walNumber);

        _versions.StartNewManifest();
        // Every replayed WAL is now in a table: the next log number is past all of them (also with the WAL off).
        ulong pastReplayed = wals.Count > 0 ? wals[^1] + 1 : 0;
        edit.LogNumber = Math.Max(Math.Max(walNumber, pastReplayed), _versions.LogNumber);
        var version = _versions.LogAndApply(edit);
        lock (_stateLock)
        {
            _versions.Install(version);
            InstallSuperVersion();
        }
        lock (_pendingOutputs)
            _pendingOutputs.Clear();
        DeleteObsoleteFiles();
    }

    /// <summary>Replays one WAL into <paramref name="mem"/>; returns the highest sequence seen. A torn tail ends the replay quietly.</summary>
    private ulong ReplayWal(ulong number, MemTable mem, ulong maxSequence)
    {
        string name = WalFileName(number);
        using var file = _fs.OpenRead(Path.Combine(_directory, name));
        using var reader = new LogReader(file, name);
        while (reader.TryReadRecord(out var record))
        {
            var payload = record.Span;
            if (payload.Length < WalRecordHeader)
                throw new CorruptionException(name, reader.ValidLength, "WAL record shorter than its header");
            ulong sequence = BinaryPrimitives.ReadUInt64LittleEndian(payload);
            int count = checked((int)BinaryPrimitives.ReadUInt32LittleEndian(payload[8..]));
            ApplyBatch(mem, payload[WalRecordHeader..], count, ref sequence, name);
            maxSequence = Math.Max(maxSequence, sequence - 1);
        }
        return maxSequence;
    }
}
