using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace LsmRaft.Storage.IO;

/// <summary>The real disk. Writes are buffered in user space until <see cref="IWritableFile.Flush"/> or <see cref="IWritableFile.Sync"/>.</summary>
public sealed class PhysicalFileSystem : IFileSystem
{
    public static PhysicalFileSystem Instance { get; } = new();

    public IWritableFile Create(string path) => new PhysicalWritableFile(path);

    public IRandomAccessFile OpenRead(string path) => new PhysicalRandomAccessFile(path);

    public bool FileExists(string path) => File.Exists(path);

    public long GetLength(string path) => new FileInfo(path).Length;

    public void Delete(string path) => File.Delete(path);

    public void Rename(string source, string destination) => File.Move(source, destination, overwrite: true);

    public IReadOnlyList<string> ListFiles(string directory) =>
        Directory.Exists(directory)
            ? Directory.GetFiles(directory).Select(Path.GetFileName).OfType<string>().ToArray()
            : Array.Empty<string>();

    public bool DirectoryExists(string directory) => Directory.Exists(directory);

    public IReadOnlyList<string> ListDirectories(string directory) =>
        Directory.Exists(directory)
            ? Directory.GetDirectories(directory).Select(Path.GetFileName).OfType<string>().ToArray()
            : Array.Empty<string>();

    public void DeleteDirectory(string directory)
    {
        if (Directory.Exists(directory))
            Directory.Delete(directory, recursive: true);
    }

    public void CreateDirectory(string directory) => Directory.CreateDirectory(directory);

    public void SyncDirectory(string directory)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
            return; // Windows has no directory fsync; NTFS journals metadata.
        int fd = open(directory, 0 /* O_RDONLY */);
        if (fd < 0)
            return;
        try { fsync(fd); }
        finally { close(fd); }
    }

    public void LinkOrCopy(string source, string destination)
    {
        if ((OperatingSystem.IsLinux() || OperatingSystem.IsMacOS()) && link(source, destination) == 0)
            return;
        File.Copy(source, destination, overwrite: false);
    }

    public IDisposable Lock(string path)
    {
        try
        {
            // On Unix .NET implements FileShare.None with flock(LOCK_EX | LOCK_NB), which also
            // excludes a second open of the same file inside this process.
            return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            throw new DatabaseLockedException(Path.GetDirectoryName(path) ?? path);
        }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", SetLastError = true)]
    private static extern int fsync(int fd);

    [DllImport("libc", SetLastError = true)]
    private static extern int close(int fd);

    [DllImport("libc", SetLastError = true)]
    private static extern int link([MarshalAs(UnmanagedType.LPUTF8Str)] string oldpath, [MarshalAs(UnmanagedType.LPUTF8Str)] string newpath);

    private sealed class PhysicalWritableFile : IWritableFile
    {
        private readonly FileStream _stream;

        public PhysicalWritableFile(string path)
        {
            _stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, bufferSize: 64 * 1024);
        }

        public long Length => _stream.Position;

        public void Append(ReadOnlySpan<byte> data) => _stream.Write(data);

        public void Flush() => _stream.Flush(flushToDisk: false);

        public void Sync() => _stream.Flush(flushToDisk: true);

        public void Dispose() => _stream.Dispose();
    }

    private sealed class PhysicalRandomAccessFile : IRandomAccessFile
    {
        private readonly SafeFileHandle _handle;

        public PhysicalRandomAccessFile(string path)
        {
            _handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            Length = RandomAccess.GetLength(_handle);
        }

        public long Length { get; }

        public int Read(long offset, Span<byte> buffer)
        {
            int total = 0;
            while (total < buffer.Length)
            {
                int n = RandomAccess.Read(_handle, buffer[total..], offset + total);
                if (n == 0)
                    break;
                total += n;
            }
            return total;
        }

        public void Dispose() => _handle.Dispose();
    }
}
