namespace LsmRaft.Storage;

/// <summary>
/// An embedded, crash-safe LSM-tree key-value store. Thread-safe: any number of concurrent readers
/// and writers. Keys and values are arbitrary bytes ordered by unsigned byte-wise comparison.
/// </summary>
public sealed partial class LsmEngine : IDisposable, IAsyncDisposable
{
    /// <summary>Opens (creating if needed) the database in <paramref name="directory"/>.</summary>
    public static LsmEngine Open(string directory, LsmOptions? options = null) => throw new NotImplementedException();

    /// <summary>The value of <paramref name="key"/>, or null when absent.</summary>
    public byte[]? Get(ReadOnlySpan<byte> key, Snapshot? snapshot = null) => throw new NotImplementedException();

    public void Put(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value) => throw new NotImplementedException();

    public void Delete(ReadOnlySpan<byte> key) => throw new NotImplementedException();

    /// <summary>Applies every operation of <paramref name="batch"/> atomically. <paramref name="appliedIndex"/>: see <see cref="LsmOptions.EnableWal"/>.</summary>
    public void Write(WriteBatch batch, long appliedIndex = -1) => throw new NotImplementedException();

    /// <summary>Entries with start ≤ key &lt; end (null bounds are open), at most <paramref name="limit"/>, ascending or descending.</summary>
    public IReadOnlyList<KeyValuePair<byte[], byte[]>> Scan(byte[]? start, byte[]? end, int limit = int.MaxValue, bool reverse = false, Snapshot? snapshot = null) => throw new NotImplementedException();

    /// <summary>A cursor over a consistent view (the snapshot's, or now's).</summary>
    public LsmIterator NewIterator(Snapshot? snapshot = null) => throw new NotImplementedException();

    public Snapshot GetSnapshot() => throw new NotImplementedException();

    /// <summary>Writes the memtable to an SSTable and waits until it is durable.</summary>
    public void Flush() => throw new NotImplementedException();

    /// <summary>Compacts every file overlapping [start, end) down to the last level.</summary>
    public void CompactRange(byte[]? start = null, byte[]? end = null) => throw new NotImplementedException();

    public EngineStats GetStats() => throw new NotImplementedException();

    /// <summary>With the WAL off: the highest applied index made durable by a flush (-1 when none).</summary>
    public long DurableAppliedIndex => throw new NotImplementedException();

    /// <summary>Writes a consistent, openable copy of the engine into the new directory <paramref name="directory"/> (hard links where possible).</summary>
    public void CreateCheckpoint(string directory) => throw new NotImplementedException();

    public void Dispose() => throw new NotImplementedException();

    public ValueTask DisposeAsync() => throw new NotImplementedException();
}
