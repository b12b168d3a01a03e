namespace LsmRaft.Storage.IO;

/// <summary>
/// Every byte the engine reads or writes goes through this interface, so tests can swap in
/// <see cref="MemoryFileSystem"/> and simulate crashes (unsynced data lost, last write torn).
/// Paths are plain strings; implementations treat them as opaque, '/'-separated names.
/// </summary>
public interface IFileSystem
{
    /// <summary>Creates (or truncates) a file for appending.</summary>
    IWritableFile Create(string path);

    /// <summary>Opens an existing file for positional reads. Throws <see cref="FileNotFoundException"/>.</summary>
    IRandomAccessFile OpenRead(string path);

    bool FileExists(string path);

    long GetLength(string path);

    void Delete(string path);

    /// <summary>Atomically replaces <paramref name="destination"/> with <paramref name="source"/>.</summary>
    void Rename(string source, string destination);

    /// <summary>Names (not paths) of the files directly inside <paramref name="directory"/>.</summary>
    IReadOnlyList<string> ListFiles(string directory);

    bool DirectoryExists(string directory);

    /// <summary>Names of the directories directly inside <paramref name="directory"/>.</summary>
    IReadOnlyList<string> ListDirectories(string directory);

    /// <summary>Deletes <paramref name="directory"/> and everything below it; no error when it does not exist.</summary>
    void DeleteDirectory(string directory);

    void CreateDirectory(string directory);

    /// <summary>Makes creations, renames and deletions inside the directory durable.</summary>
    void SyncDirectory(string directory);

    /// <summary>Hard-links <paramref name="source"/> to <paramref name="destination"/>; copies when links are unsupported.</summary>
    void LinkOrCopy(string source, string destination);

    /// <summary>
    /// Takes an exclusive lock on <paramref name="path"/> (created if missing). Throws
    /// <see cref="LsmRaft.Storage.DatabaseLockedException"/> when another engine, in this or another process, holds it.
    /// </summary>
    IDisposable Lock(string path);
}

/// <summary>An append-only file. Not thread-safe: one writer at a time.</summary>
public interface IWritableFile : IDisposable
{
    long Length { get; }

    void Append(ReadOnlySpan<byte> data);

    /// <summary>Hands buffered bytes to the operating system (survives a process crash, not a power loss).</summary>
    void Flush();

    /// <summary>Makes every appended byte durable (fsync).</summary>
    void Sync();
}

/// <summary>A file opened for positional reads. Thread-safe.</summary>
public interface IRandomAccessFile : IDisposable
{
    long Length { get; }

    /// <summary>Reads up to <c>buffer.Length</c> bytes at <paramref name="offset"/>; returns the count read (short only at end of file).</summary>
    int Read(long offset, Span<byte> buffer);
}
