using LsmRaft.Storage.Memtable;
using LsmRaft.Storage.Versions;

namespace LsmRaft.Storage;

/// <summary>
/// What a read needs, captured together: the active memtable, the immutable ones (newest first) and
/// the table version. Replaced as a whole whenever any part changes; reference-counted so the
/// version (and thus its files) outlives every read that started on it.
/// </summary>
internal sealed class SuperVersion
{
    private int _refs = 1;

    public SuperVersion(MemTable mem, MemTable[] immutables, Version version)
    {
        Mem = mem;
        Immutables = immutables;
        Version = version;
        version.Ref();
    }

    public MemTable Mem { get; }

    /// <summary>Immutable memtables, newest first.</summary>
    public MemTable[] Immutables { get; }

    public Version Version { get; }

    public void Ref() => Interlocked.Increment(ref _refs);

    public void Unref()
    {
        if (Interlocked.Decrement(ref _refs) == 0)
            Version.Unref();
    }
}
