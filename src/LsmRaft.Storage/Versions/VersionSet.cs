using System.Text;
using LsmRaft.Storage.IO;
using LsmRaft.Storage.Wal;

namespace LsmRaft.Storage.Versions;

/// <summary>
/// The durable history of the tree's shape. Each change is a <see cref="VersionEdit"/> appended and
/// synced to the manifest log (<c>MANIFEST-000007</c>) before it takes effect; <c>CURRENT</c> names the
/// live manifest and is replaced atomically (write temp, sync, rename, sync directory).
/// Not thread-safe: the engine serializes calls to <see cref="LogAndApply"/> under its version lock.
/// </summary>
internal sealed class VersionSet : IDisposable
{
    public const string ComparatorName = "lsmraft.bytewise";
    private const string CurrentFileName = "CURRENT";

    private readonly IFileSystem _fs;
    private readonly string _directory;
    private readonly int _numLevels;
    private readonly HashSet<Version> _live = new();
    private LogWriter? _manifest;
    private IWritableFile? _manifestFile;

    public VersionSet(IFileSystem fs, string directory, int numLevels)
    {
        _fs = fs;
        _directory = directory;
        _numLevels = numLevels;
        CompactPointers = new byte[]?[numLevels];
        Current = NewVersion(Enumerable.Range(0, numLevels).Select(_ => Array.Empty<FileMetadata>()).ToArray());
        Current.Ref();
    }

    public Version Current { get; private set; }

    private long _nextFileNumber = 2;

    /// <summary>The next unused file number. Thread-safe: the engine allocates numbers for WAL files outside the version lock.</summary>
    public ulong NextFileNumber => (ulong)Interlocked.Read(ref _nextFileNumber);

    public ulong LastSequence { get; set; }

    /// <summary>WAL files numbered below this hold nothing that is not in a table.</summary>
    public ulong LogNumber { get; private set; }

    public long AppliedIndex { get; private set; } = -1;

    public ulong ManifestNumber { get; private set; }

    /// <summary>Where the next compaction of each level starts (round-robin over the key space).</summary>
    public byte[]?[] CompactPointers { get; }

    public ulong NewFileNumber() => (ulong)Interlocked.Increment(ref _nextFileNumber) - 1;

    /// <summary>Raises <see cref="NextFileNumber"/> past a number seen on disk.</summary>
    public void MarkFileNumberUsed(ulong number)
    {
        long current;
        while ((ulong)(current = Interlocked.Read(ref _nextFileNumber)) <= number)
            Interlocked.CompareExchange(ref _nextFileNumber, (long)number + 1, current);
    }

    public static string ManifestFileName(ulong number) => $"MANIFEST-{number:D6}";

    public bool Exists() => _fs.FileExists(Path.Combine(_directory, CurrentFileName));

    /// <summary>Loads the state named by CURRENT. Throws <see cref="CorruptionException"/> naming the bad file.</summary>
    public void Recover()
    {
        string currentPath = Path.Combine(_directory, CurrentFileName);
        string manifestName = ReadCurrent(currentPath);
        string manifestPath = Path.Combine(_directory, manifestName);
        if (!_fs.FileExists(manifestPath))
            throw new CorruptionException(CurrentFileName, 0, $"names '{manifestName}', which does not exist");

        var builder = new VersionBuilder(Current.Levels);
        bool sawNextFile = false, sawLogNumber = false, sawLastSequence = false;
        using (var file = _fs.OpenRead(manifestPath))
        using (var reader = new LogReader(file, manifestName, strictTail: true))
        {
            while (reader.TryReadRecord(out var record))
            {
                var edit = VersionEdit.Decode(record.Span, manifestName);
                if (edit.Comparator is { } comparator && comparator != ComparatorName)
                    throw new CorruptionException(manifestName, 0, $"created with comparator '{comparator}', this engine uses '{ComparatorName}'");
                builder.Apply(edit, manifestName);
                if (edit.NextFileNumber is { } next) { Interlocked.Exchange(ref _nextFileNumber, (long)next); sawNextFile = true; }
                if (edit.LogNumber is { } log) { LogNumber = log; sawLogNumber = true; }
                if (edit.LastSequence is { } seq) { LastSequence = seq; sawLastSequence = true; }
                if (edit.AppliedIndex is { } applied) AppliedIndex = applied;
                foreach (var (level, key) in edit.CompactPointers)
                    if (level < _numLevels) CompactPointers[level] = key;
            }
        }
        if (!sawNextFile || !sawLogNumber || !sawLastSequence)
            throw new CorruptionException(manifestName, 0, "missing next-file, log-number or last-sequence entry");

        SetCurrent(NewVersion(builder.Build(manifestName)));
        ManifestNumber = ulong.Parse(manifestName.AsSpan("MANIFEST-".Length));
        MarkFileNumberUsed(ManifestNumber);
    }

    /// <summary>
    /// Starts a fresh manifest holding a snapshot of the current state and points CURRENT at it.
    /// Called on every open, so the manifest never grows without bound across restarts.
    /// </summary>
    public void StartNewManifest()
    {
        ulong number = NewFileNumber();
        string name = ManifestFileName(number);
        var file = _fs.Create(Path.Combine(_directory, name));
        var writer = new LogWriter(file);
        writer.AddRecord(SnapshotEdit().Encode());
        writer.Sync();

        string temp = Path.Combine(_directory, $"{number:D6}.dbtmp");
        using (var tmp = _fs.Create(temp))
        {
            tmp.Append(Encoding.ASCII.GetBytes(name + "\n"));
            tmp.Sync();
        }
        _fs.Rename(temp, Path.Combine(_directory, CurrentFileName));
        _fs.SyncDirectory(_directory);

        _manifest?.Dispose();
        _manifestFile?.Dispose();
        _manifest = writer;
        _manifestFile = file;
        ManifestNumber = number;
    }

    /// <summary>
    /// Makes <paramref name="edit"/> durable in the manifest and returns the resulting version, which the
    /// caller must pass to <see cref="Install"/> before the next edit (under the lock readers use, so a
    /// reader never references a version that is being retired).
    /// </summary>
    public Version LogAndApply(VersionEdit edit)
    {
        if (_manifest is null)
            throw new InvalidOperationException("No manifest is open.");
        edit.NextFileNumber = NextFileNumber;
        edit.LastSequence = LastSequence;
        edit.LogNumber ??= LogNumber;
        if (edit.LogNumber < LogNumber)
            throw new InvalidOperationException("Log number must not go backwards.");

        var builder = new VersionBuilder(Current.Levels);
        builder.Apply(edit, ManifestFileName(ManifestNumber));
        var levels = builder.Build(ManifestFileName(ManifestNumber));

        _manifest.AddRecord(edit.Encode());
        _manifest.Sync();

        LogNumber = edit.LogNumber.Value;
        if (edit.AppliedIndex is { } applied)
            AppliedIndex = applied;
        foreach (var (level, key) in edit.CompactPointers)
            CompactPointers[level] = key;
        return NewVersion(levels);
    }

    /// <summary>Makes <paramref name="version"/> current (see <see cref="LogAndApply"/>).</summary>
    public void Install(Version version) => SetCurrent(version);

    /// <summary>Numbers of every table listed by a version still referenced by a reader.</summary>
    public HashSet<ulong> LiveTableNumbers()
    {
        var live = new HashSet<ulong>();
        lock (_live)
        {
            foreach (var version in _live)
                foreach (var level in version.Levels)
                    foreach (var f in level)
                        live.Add(f.Number);
        }
        return live;
    }

    /// <summary>An edit that recreates the whole current state (first record of a new manifest; checkpoints).</summary>
    public VersionEdit SnapshotEdit()
    {
        var edit = new VersionEdit
        {
            Comparator = ComparatorName,
            LogNumber = LogNumber,
            NextFileNumber = NextFileNumber,
            LastSequence = LastSequence,
            AppliedIndex = AppliedIndex,
        };
        for (int level = 0; level < _numLevels; level++)
        {
            if (CompactPointers[level] is { } pointer)
                edit.CompactPointers.Add((level, pointer));
            foreach (var f in Current.Levels[level])
                edit.NewFiles.Add((level, f));
        }
        return edit;
    }

    public void Dispose()
    {
        _manifest?.Dispose();
        _manifestFile?.Dispose();
        _manifest = null;
        _manifestFile = null;
    }

    private string ReadCurrent(string currentPath)
    {
        using var file = _fs.OpenRead(currentPath);
        var buffer = new byte[Math.Min(file.Length, 256)];
        int n = file.Read(0, buffer);
        string text = Encoding.ASCII.GetString(buffer, 0, n);
        if (!text.EndsWith('\n') || !text.StartsWith("MANIFEST-", StringComparison.Ordinal) ||
            !ulong.TryParse(text.AsSpan("MANIFEST-".Length, text.Length - "MANIFEST-".Length - 1), out _))
            throw new CorruptionException(CurrentFileName, 0, "does not name a manifest file");
        return text[..^1];
    }

    private Version NewVersion(FileMetadata[][] levels)
    {
        var version = new Version(levels, v => { lock (_live) _live.Remove(v); });
        lock (_live) _live.Add(version);
        return version;
    }

    private void SetCurrent(Version version)
    {
        version.Ref();
        var old = Current;
        Current = version;
        old.Unref();
    }
}
