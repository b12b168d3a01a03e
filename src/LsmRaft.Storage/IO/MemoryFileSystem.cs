namespace LsmRaft.Storage.IO;

/// <summary>
/// An in-memory file system for tests that can simulate a machine crash.
/// Model: metadata operations (create, rename, delete, link) are durable at once, as on a
/// journaling file system after a directory sync; file contents are durable only up to the
/// length at the last <see cref="IWritableFile.Sync"/>. <see cref="Crash"/> drops every
/// unsynced byte, except that a seeded random prefix of each file's unsynced tail may survive
/// (a torn last write), optionally with its final surviving byte corrupted.
/// Thread-safe.
/// </summary>
public sealed class MemoryFileSystem : IFileSystem
{
    private readonly object _gate = new();
    private readonly Dictionary<string, Node> _files = new(StringComparer.Ordinal);
    private readonly HashSet<string> _directories = new(StringComparer.Ordinal);
    private readonly HashSet<string> _locks = new(StringComparer.Ordinal);

    /// <summary>Count of <see cref="IWritableFile.Sync"/> calls, for tests of group commit.</summary>
    public long SyncCount { get; private set; }

    /// <summary>When set, called before every durable operation; throw from it to inject an I/O failure.</summary>
    public Action<string>? BeforeWrite { get; set; }

    public IWritableFile Create(string path)
    {
        path = Normalize(path);
        BeforeWrite?.Invoke(path);
        lock (_gate)
        {
            RequireParent(path);
            var node = new Node();
            _files[path] = node;
            return new MemoryWritableFile(this, path, node);
        }
    }

    public IRandomAccessFile OpenRead(string path)
    {
        path = Normalize(path);
        lock (_gate)
        {
            if (!_files.TryGetValue(path, out var node))
                throw new FileNotFoundException($"No such file: {path}", path);
            return new MemoryRandomAccessFile(this, node);
        }
    }

    public bool FileExists(string path)
    {
        lock (_gate) return _files.ContainsKey(Normalize(path));
    }

    public long GetLength(string path)
    {
        path = Normalize(path);
        lock (_gate)
        {
            if (!_files.TryGetValue(path, out var node))
                throw new FileNotFoundException($"No such file: {path}", path);
            return node.Length;
        }
    }

    public void Delete(string path)
    {
        path = Normalize(path);
        lock (_gate) _files.Remove(path);
    }

    public void Rename(string source, string destination)
    {
        source = Normalize(source);
        destination = Normalize(destination);
        BeforeWrite?.Invoke(destination);
        lock (_gate)
        {
            if (!_files.Remove(source, out var node))
                throw new FileNotFoundException($"No such file: {source}", source);
            _files[destination] = node;
        }
    }

    public IReadOnlyList<string> ListFiles(string directory)
    {
        directory = Normalize(directory);
        string prefix = directory.Length == 0 ? "" : directory + "/";
        lock (_gate)
        {
            return _files.Keys
                .Where(p => p.StartsWith(prefix, StringComparison.Ordinal) && p.IndexOf('/', prefix.Length) < 0)
                .Select(p => p[prefix.Length..])
                .OrderBy(n => n, StringComparer.Ordinal)
                .ToArray();
        }
    }

    public IReadOnlyList<string> ListDirectories(string directory)
    {
        directory = Normalize(directory);
        string prefix = directory.Length == 0 ? "" : directory + "/";
        lock (_gate)
        {
            return _directories
                .Where(d => d.Length > prefix.Length && d.StartsWith(prefix, StringComparison.Ordinal) && d.IndexOf('/', prefix.Length) < 0)
                .Select(d => d[prefix.Length..])
                .OrderBy(n => n, StringComparer.Ordinal)
                .ToArray();
        }
    }

    public void DeleteDirectory(string directory)
    {
        directory = Normalize(directory);
        string prefix = directory + "/";
        lock (_gate)
        {
            foreach (var path in _files.Keys.Where(p => p.StartsWith(prefix, StringComparison.Ordinal)).ToArray())
                _files.Remove(path);
            _directories.RemoveWhere(d => d == directory || d.StartsWith(prefix, StringComparison.Ordinal));
        }
    }

    public bool DirectoryExists(string directory)
    {
        lock (_gate) return _directories.Contains(Normalize(directory));
    }

    public void CreateDirectory(string directory)
    {
        directory = Normalize(directory);
        lock (_gate)
        {
            // Register every ancestor, as Directory.CreateDirectory does.
            for (int i = 0; i <= directory.Length; i++)
                if (i == directory.Length || directory[i] == '/')
                    _directories.Add(directory[..i]);
        }
    }

    public void SyncDirectory(string directory) { }

    public void LinkOrCopy(string source, string destination)
    {
        source = Normalize(source);
        destination = Normalize(destination);
        lock (_gate)
        {
            if (!_files.TryGetValue(source, out var node))
                throw new FileNotFoundException($"No such file: {source}", source);
            if (_files.ContainsKey(destination))
                throw new IOException($"File exists: {destination}");
            RequireParent(destination);
            _files[destination] = node; // a hard link shares the inode
        }
    }

    public IDisposable Lock(string path)
    {
        path = Normalize(path);
        lock (_gate)
        {
            if (!_locks.Add(path))
                throw new LsmRaft.Storage.DatabaseLockedException(ParentOf(path));
            if (!_files.ContainsKey(path))
                _files[path] = new Node();
        }
        return new LockHandle(this, path);
    }

    /// <summary>
    /// Simulates power loss: every file keeps its synced bytes plus, with probability ½, a random
    /// prefix of its unsynced tail (a torn write); with probability ¼ the last surviving torn byte is
    /// flipped. Open handles become invalid; locks are released.
    /// </summary>
    public void Crash(Random random)
    {
        lock (_gate)
        {
            foreach (var node in _files.Values.Distinct())
            {
                lock (node)
                {
                    int keep = SurvivingLength(node, random, out bool flipLast);
                    if (flipLast)
                        node.Data[keep - 1] ^= 0x5A;
                    node.Length = keep;
                    node.SyncedLength = keep;
                    node.Generation++;
                }
            }
            _locks.Clear();
        }
    }

    /// <summary>
    /// What a machine would find on its disk after a power loss now: a new, independent file system holding
    /// each file's synced bytes plus (as in <see cref="Crash"/>) a possibly torn prefix of its unsynced tail.
    /// This instance is left untouched, so processes still using it (abandoned actors, background threads)
    /// cannot disturb the recovered copy. Hard links stay shared in the copy.
    /// </summary>
    public MemoryFileSystem CrashCopy(Random random)
    {
        var copy = new MemoryFileSystem();
        lock (_gate)
        {
            var cloned = new Dictionary<Node, Node>();
            foreach (var (path, node) in _files.OrderBy(f => f.Key, StringComparer.Ordinal))
            {
                if (!cloned.TryGetValue(node, out var clone))
                {
                    lock (node)
                    {
                        int keep = SurvivingLength(node, random, out bool flipLast);
                        clone = new Node();
                        clone.Append(node.Data.AsSpan(0, keep));
                        if (flipLast)
                            clone.Data[keep - 1] ^= 0x5A;
                        clone.SyncedLength = clone.Length;
                    }
                    cloned[node] = clone;
                }
                copy._files[path] = clone;
            }
            copy._directories.UnionWith(_directories);
        }
        return copy;
    }

    /// <summary>
    /// The power-loss model shared by <see cref="Crash"/> and <see cref="CrashCopy"/>: the synced bytes survive and,
    /// with probability ½, a random prefix of the unsynced tail (a torn write) whose last byte is corrupted with
    /// probability ¼. Caller holds the node's lock.
    /// </summary>
    private static int SurvivingLength(Node node, Random random, out bool flipLast)
    {
        int keep = node.SyncedLength;
        int unsynced = node.Length - node.SyncedLength;
        flipLast = false;
        if (unsynced > 0 && random.Next(2) == 0)
        {
            keep += random.Next(unsynced + 1);
            flipLast = keep > node.SyncedLength && random.Next(4) == 0;
        }
        return keep;
    }

    /// <summary>Flips one bit of a file's contents in place (for corruption tests).</summary>
    public void FlipBit(string path, long offset, int bit = 0)
    {
        path = Normalize(path);
        lock (_gate)
        {
            var node = _files[path];
            lock (node) node.Data[offset] ^= (byte)(1 << bit);
        }
    }

    private void RequireParent(string path)
    {
        string parent = ParentOf(path);
        if (!_directories.Contains(parent))
            throw new DirectoryNotFoundException($"No such directory: {parent}");
    }

    private static string ParentOf(string path)
    {
        int slash = path.LastIndexOf('/');
        return slash < 0 ? "" : path[..slash];
    }

    private static string Normalize(string path) => path.Replace('\\', '/').TrimEnd('/');

    private sealed class Node
    {
        public byte[] Data = new byte[256];
        public int Length;
        public int SyncedLength;
        public int Generation;

        public void Append(ReadOnlySpan<byte> bytes)
        {
            if (Length + bytes.Length > Data.Length)
                Array.Resize(ref Data, Math.Max(Data.Length * 2, Length + bytes.Length));
            bytes.CopyTo(Data.AsSpan(Length));
            Length += bytes.Length;
        }
    }

    private sealed class MemoryWritableFile : IWritableFile
    {
        private readonly MemoryFileSystem _fs;
        private readonly string _path;
        private readonly Node _node;
        private readonly int _generation;
        private bool _disposed;

        public MemoryWritableFile(MemoryFileSystem fs, string path, Node node)
        {
            _fs = fs;
            _path = path;
            _node = node;
            _generation = node.Generation;
        }

        public long Length
        {
            get
            {
                // Like a closed FileStream: a file used after Dispose is a bug the tests should see.
                ObjectDisposedException.ThrowIf(_disposed, this);
                lock (_node) return _node.Length;
            }
        }

        public void Append(ReadOnlySpan<byte> data)
        {
            _fs.BeforeWrite?.Invoke(_path);
            lock (_node)
            {
                CheckLive();
                _node.Append(data);
            }
        }

        public void Flush() { }

        public void Sync()
        {
            _fs.BeforeWrite?.Invoke(_path);
            lock (_node)
            {
                CheckLive();
                _node.SyncedLength = _node.Length;
            }
            lock (_fs._gate) _fs.SyncCount++;
        }

        public void Dispose() => _disposed = true;

        private void CheckLive()
        {
            if (_disposed)
                throw new ObjectDisposedException(_path);
            if (_node.Generation != _generation)
                throw new IOException($"File handle for {_path} did not survive the simulated crash.");
        }
    }

    private sealed class MemoryRandomAccessFile : IRandomAccessFile
    {
        private readonly MemoryFileSystem _fs;
        private readonly Node _node;

        public MemoryRandomAccessFile(MemoryFileSystem fs, Node node)
        {
            _fs = fs;
            _node = node;
        }

        public long Length
        {
            get { lock (_node) return _node.Length; }
        }

        public int Read(long offset, Span<byte> buffer)
        {
            lock (_node)
            {
                if (offset >= _node.Length)
                    return 0;
                int n = (int)Math.Min(buffer.Length, _node.Length - offset);
                _node.Data.AsSpan((int)offset, n).CopyTo(buffer);
                return n;
            }
        }

        public void Dispose() { }
    }

    private sealed class LockHandle : IDisposable
    {
        private readonly MemoryFileSystem _fs;
        private readonly string _path;
        private bool _released;

        public LockHandle(MemoryFileSystem fs, string path)
        {
            _fs = fs;
            _path = path;
        }

        public void Dispose()
        {
            if (_released)
                return;
            _released = true;
            lock (_fs._gate) _fs._locks.Remove(_path);
        }
    }
}
