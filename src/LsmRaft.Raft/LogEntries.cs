namespace LsmRaft.Raft;

/// <summary>Size accounting for entries, shared by the log, the storage and flow control.</summary>
internal static class LogEntries
{
    /// <summary>
    /// Fixed per-entry cost (term, index, type, length prefix on the wire). Counting it means a batch of empty
    /// entries is still bounded by a byte limit.
    /// </summary>
    public const ulong OverheadBytes = 16;

    public static ulong Size(Entry entry) => (ulong)entry.Data.Length + OverheadBytes;

    public static ulong Size(IReadOnlyList<Entry> entries)
    {
        ulong total = 0;
        foreach (var e in entries)
        {
            total += Size(e);
        }

        return total;
    }

    /// <summary>The longest prefix of <paramref name="entries"/> within <paramref name="maxBytes"/>, and never empty if the input is not.</summary>
    public static IReadOnlyList<Entry> Limit(IReadOnlyList<Entry> entries, ulong maxBytes)
    {
        if (entries.Count <= 1)
        {
            return entries;
        }

        var size = Size(entries[0]);
        var count = 1;
        while (count < entries.Count)
        {
            size += Size(entries[count]);
            if (size > maxBytes)
            {
                break;
            }

            count++;
        }

        return count == entries.Count ? entries : entries.Take(count).ToArray();
    }
}
