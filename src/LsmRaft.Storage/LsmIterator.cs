namespace LsmRaft.Storage;

/// <summary>
/// A cursor over user keys at a consistent sequence (snapshot), hiding old versions and deletions.
/// Not thread-safe. Dispose it to release the files it pins.
/// </summary>
public sealed partial class LsmIterator : IDisposable
{
    public bool Valid => throw new NotImplementedException();
    public ReadOnlySpan<byte> Key => throw new NotImplementedException();
    public ReadOnlySpan<byte> Value => throw new NotImplementedException();
    public void SeekToFirst() => throw new NotImplementedException();
    public void SeekToLast() => throw new NotImplementedException();
    /// <summary>Positions at the first key ≥ <paramref name="key"/>.</summary>
    public void Seek(ReadOnlySpan<byte> key) => throw new NotImplementedException();
    /// <summary>Positions at the last key ≤ <paramref name="key"/>.</summary>
    public void SeekForPrev(ReadOnlySpan<byte> key) => throw new NotImplementedException();
    public void Next() => throw new NotImplementedException();
    public void Prev() => throw new NotImplementedException();
    public void Dispose() => throw new NotImplementedException();
}
