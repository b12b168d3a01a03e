namespace LsmRaft.Storage.Format;

/// <summary>
/// A bidirectional cursor over entries sorted by <see cref="InternalKey.Compare"/>. Memtables,
/// blocks, tables, levels and merges all implement it, so iterators compose.
/// <c>Key</c> and <c>Value</c> are valid only until the next move.
/// Errors (corruption) are thrown from the move that met them.
/// </summary>
internal interface IInternalIterator : IForwardCursor
{

    void SeekToFirst();

    void SeekToLast();

    /// <summary>Positions at the first entry with key ≥ <paramref name="target"/> (an internal key).</summary>
    void Seek(ReadOnlySpan<byte> target);

    void Prev();
}

/// <summary>A forward-only cursor over internal keys in order (what a table writer consumes).</summary>
internal interface IForwardCursor : IDisposable
{
    bool Valid { get; }

    void Next();

    /// <summary>The current internal key. Requires <see cref="Valid"/>.</summary>
    ReadOnlySpan<byte> Key { get; }

    /// <summary>The current value. Requires <see cref="Valid"/>.</summary>
    ReadOnlySpan<byte> Value { get; }
}
