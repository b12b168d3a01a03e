using LsmRaft.Storage.IO;

namespace LsmRaft.Storage.Tests.Engine;

/// <summary>
/// One process's view of a shared <see cref="MemoryFileSystem"/>, for crash tests. A crash (explicit, or
/// armed to strike at the n-th mutating call: mid-write, mid-flush, mid-compaction) loses power on the
/// shared file system and kills this "process": every later mutating call through this view fails with
/// <see cref="IOException"/>. So an engine abandoned after the crash cannot keep writing from its
/// background threads the way a dead process could not, and a new engine opened through a fresh view
/// sees exactly what the crash left.
/// </summary>
/// <remarks>
/// Invariant: mutating calls run one at a time under <c>_gate</c>, so none is half-done when the crash
/// strikes. Reads pass straight through: reading cannot change what is durable.
/// </remarks>
internal sealed class FencedFileSystem : IFileSystem
{
    private readonly MemoryFileSystem _inner;
    private readonly Random _crashRandom;
    private readonly object _gate = new();
    private long _calls;
    private long _crashAtCall = -1;
    private bool _dead;

    public FencedFileSystem(MemoryFileSystem inner, Random crashRandom)
    {
        _inner = inner;
        _crashRandom = crashRandom;
    }

    /// <summary>True once the crash has happened; anything the engine reports after that is unacknowledged.</summary>
    public bool Crashed
    {
        get { lock (_gate) return _dead; }
    }

    /// <summary>Makes the <paramref name="callsFromNow"/>-th mutating call from now (1 = the next) crash instead of running.</summary>
    public void ArmCrash(long callsFromNow)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(callsFromNow, 1);
        lock (_gate) _crashAtCall = _calls + callsFromNow;
    }

    /// <summary>Crashes now, between calls, unless a crash already happened. True when this call crashed.</summary>
    public bool CrashNow()
    {
        lock (_gate)
        {
            if (_dead)
                return false;
            Die();
            return true;
        }
    }

    public IWritableFile Create(string path) => Guard($"create {path}", () => new File(this, path, _inner.Create(path)));

    public IRandomAccessFile OpenRead(string path) => _inner.OpenRead(path);

    public bool FileExists(string path) => _inner.FileExists(path);

    public long GetLength(string path) => _inner.GetLength(path);

    public void Delete(string path) => Guard($"delete {path}", () => _inner.Delete(path));

    public void Rename(string source, string destination) => Guard($"rename {source}", () => _inner.Rename(source, destination));

    public IReadOnlyList<string> ListFiles(string directory) => _inner.ListFiles(directory);

    public bool DirectoryExists(string directory) => _inner.DirectoryExists(directory);

    public IReadOnlyList<string> ListDirectories(string directory) => _inner.ListDirectories(directory);

    public void DeleteDirectory(string directory) => Guard($"delete directory {directory}", () => _inner.DeleteDirectory(directory));

    public void CreateDirectory(string directory) => Guard($"create directory {directory}", () => _inner.CreateDirectory(directory));

    public void SyncDirectory(string directory) => Guard($"sync directory {directory}", () => _inner.SyncDirectory(directory));

    public void LinkOrCopy(string source, string destination) => Guard($"link {source}", () => _inner.LinkOrCopy(source, destination));

    public IDisposable Lock(string path) => Guard($"lock {path}", () => new LockHandle(this, _inner.Lock(path)));

    private void Guard(string what, Action action) => Guard<object?>(what, () =>
    {
        action();
        return null;
    });

    private T Guard<T>(string what, Func<T> action)
    {
        lock (_gate)
        {
            if (_dead)
                throw new IOException($"Simulated power loss: '{what}' attempted by a process that crashed.");
            if (++_calls == _crashAtCall)
            {
                Die();
                throw new IOException($"Simulated power loss during '{what}'.");
            }
            return action();
        }
    }

    private void Die()
    {
        _dead = true;
        _inner.Crash(_crashRandom);
    }

    private sealed class File : IWritableFile
    {
        private readonly FencedFileSystem _owner;
        private readonly string _path;
        private readonly IWritableFile _inner;

        public File(FencedFileSystem owner, string path, IWritableFile inner)
        {
            _owner = owner;
            _path = path;
            _inner = inner;
        }

        public long Length => _inner.Length;

        public void Append(ReadOnlySpan<byte> data)
        {
            // A span cannot be captured by the guard's lambda; take the gate here instead.
            lock (_owner._gate)
            {
                if (_owner._dead)
                    throw new IOException($"Simulated power loss: append to '{_path}' attempted by a process that crashed.");
                if (++_owner._calls == _owner._crashAtCall)
                {
                    _owner.Die();
                    throw new IOException($"Simulated power loss during append to '{_path}'.");
                }
                _inner.Append(data);
            }
        }

        public void Flush() => _owner.Guard($"flush {_path}", _inner.Flush);

        public void Sync() => _owner.Guard($"sync {_path}", _inner.Sync);

        public void Dispose() => _inner.Dispose();
    }

    /// <summary>A dead process's lock is gone (the crash cleared it); releasing it later must not release a successor's lock.</summary>
    private sealed class LockHandle : IDisposable
    {
        private readonly FencedFileSystem _owner;
        private readonly IDisposable _inner;

        public LockHandle(FencedFileSystem owner, IDisposable inner)
        {
            _owner = owner;
            _inner = inner;
        }

        public void Dispose()
        {
            lock (_owner._gate)
            {
                if (!_owner._dead)
                    _inner.Dispose();
            }
        }
    }
}
