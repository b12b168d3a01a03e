namespace LsmRaft.Storage;

/// <summary>Base of every error the engine raises on purpose.</summary>
public class LsmException : Exception
{
    public LsmException(string message) : base(message) { }
    public LsmException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>A file's bytes do not match their checksum or format. Names the file so an operator can act.</summary>
public sealed class CorruptionException : LsmException
{
    public CorruptionException(string file, long offset, string detail)
        : base($"Corruption in '{file}' at offset {offset}: {detail}")
    {
        File = file;
        Offset = offset;
    }

    public string File { get; }
    public long Offset { get; }
}

/// <summary>Another engine (in this or another process) has the directory open.</summary>
public sealed class DatabaseLockedException : LsmException
{
    public DatabaseLockedException(string directory)
        : base($"The database in '{directory}' is already open by another engine or process (lock file held). Close it first or use another directory.")
    {
        Directory = directory;
    }

    public string Directory { get; }
}

/// <summary>A key or value is outside the documented limits (see <see cref="Limits"/>).</summary>
public sealed class LimitExceededException : LsmException
{
    public LimitExceededException(string message) : base(message) { }
}

/// <summary>An option is outside its accepted range. Names the option.</summary>
public sealed class InvalidOptionException : LsmException
{
    public InvalidOptionException(string option, string message) : base($"Invalid option {option}: {message}")
    {
        Option = option;
    }

    public string Option { get; }
}

/// <summary>The engine was used after <c>Dispose</c>, or a background error made it read-only.</summary>
public sealed class EngineClosedException : LsmException
{
    public EngineClosedException(string message, Exception? inner = null) : base(message, inner ?? new InvalidOperationException(message)) { }
}

/// <summary>Size limits on keys and values, enforced by every write path.</summary>
public static class Limits
{
    /// <summary>Largest key accepted: 64 KiB.</summary>
    public const int MaxKeySize = 64 * 1024;

    /// <summary>Largest value accepted: 32 MiB.</summary>
    public const int MaxValueSize = 32 * 1024 * 1024;

    internal static void CheckKey(ReadOnlySpan<byte> key)
    {
        if (key.Length > MaxKeySize)
            throw new LimitExceededException($"Key of {key.Length} bytes exceeds the limit of {MaxKeySize} bytes (64 KiB).");
    }

    internal static void CheckValue(ReadOnlySpan<byte> value) => CheckValueLength(value.Length);

    internal static void CheckValueLength(long length)
    {
        if (length > MaxValueSize)
            throw new LimitExceededException($"Value of {length} bytes exceeds the limit of {MaxValueSize} bytes (32 MiB).");
    }
}
