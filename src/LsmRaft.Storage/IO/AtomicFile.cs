namespace LsmRaft.Storage.IO;

/// <summary>
/// Whole small files (manifests, layouts, markers) written so that a crash at any moment leaves either the old
/// contents or the new ones, never a mix, a torn tail or nothing: the one way LsmRaft replaces such a file.
/// </summary>
public static class AtomicFile
{
    /// <summary>Suffix of the temporary file beside the target; a crash can leave one behind, the next write replaces it.</summary>
    public const string TempSuffix = ".tmp";

    /// <summary>
    /// Replaces <paramref name="path"/> with <paramref name="contents"/>, atomically and durably: writes a temporary
    /// file beside it, fsyncs it, renames it over the target, then fsyncs the directory so the rename itself survives
    /// a power loss. The directory must exist.
    /// </summary>
    public static void WriteAtomically(this IFileSystem fs, string path, ReadOnlySpan<byte> contents)
    {
        string temp = path + TempSuffix;
        using (var file = fs.Create(temp))
        {
            file.Append(contents);
            file.Sync();
        }
        fs.Rename(temp, path);
        fs.SyncDirectory(Path.GetDirectoryName(path) is { Length: > 0 } directory ? directory : ".");
    }

    /// <summary>
    /// The whole contents of <paramref name="path"/> (what is there, should it shrink while being read). Throws
    /// <see cref="FileNotFoundException"/> when it does not exist.
    /// </summary>
    public static byte[] ReadAllBytes(this IFileSystem fs, string path)
    {
        using var file = fs.OpenRead(path);
        var data = new byte[file.Length];
        int read = 0;
        while (read < data.Length)
        {
            int n = file.Read(read, data.AsSpan(read));
            if (n == 0)
                break;
            read += n;
        }
        return read == data.Length ? data : data[..read];
    }
}
