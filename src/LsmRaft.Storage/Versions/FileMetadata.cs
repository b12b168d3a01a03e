namespace LsmRaft.Storage.Versions;

/// <summary>
/// One live SSTable as recorded in the manifest. Immutable; <see cref="Smallest"/> and
/// <see cref="Largest"/> are internal keys (user key ++ 8-byte trailer).
/// </summary>
internal sealed record FileMetadata(
    ulong Number,
    long Size,
    byte[] Smallest,
    byte[] Largest,
    ulong SmallestSequence,
    ulong LargestSequence)
{
    /// <summary>The file name of table <paramref name="number"/>: <c>000123.sst</c>.</summary>
    public static string TableFileName(ulong number) => $"{number:D6}.sst";
}
