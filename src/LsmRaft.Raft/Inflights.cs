namespace LsmRaft.Raft;

/// <summary>
/// The append messages sent to one follower and not yet acknowledged, as a ring buffer of
/// (last index, bytes). Bounds pipelining: the leader stops sending when <see cref="Full"/>.
/// </summary>
/// <remarks>Invariant: the indexes in the buffer increase from oldest to newest.</remarks>
internal sealed class Inflights
{
    private readonly (ulong Index, ulong Bytes)[] buffer;
    private readonly ulong maxBytes;
    private int start;

    public Inflights(int capacity, ulong maxBytes)
    {
        buffer = new (ulong, ulong)[capacity];
        this.maxBytes = maxBytes;
    }

    public int Count { get; private set; }

    public ulong Bytes { get; private set; }

    /// <summary>True when no more messages may be sent: the count or the byte budget is exhausted.</summary>
    public bool Full => Count == buffer.Length || (maxBytes != 0 && Bytes >= maxBytes);

    public void Add(ulong index, ulong bytes)
    {
        if (Full)
        {
            throw new InvalidOperationException("Cannot add to a full inflight window; the caller must check Full first.");
        }

        if (Count > 0 && buffer[(start + Count - 1) % buffer.Length].Index >= index)
        {
            throw new InvalidOperationException($"Inflight index {index} does not increase.");
        }

        buffer[(start + Count) % buffer.Length] = (index, bytes);
        Count++;
        Bytes += bytes;
    }

    /// <summary>Release every message whose last index is at most <paramref name="index"/> (the follower acknowledged them).</summary>
    public void FreeLE(ulong index)
    {
        while (Count > 0 && buffer[start].Index <= index)
        {
            Bytes -= buffer[start].Bytes;
            start = (start + 1) % buffer.Length;
            Count--;
        }

        if (Count == 0)
        {
            start = 0;
        }
    }

    /// <summary>Release the oldest message, presumed lost.</summary>
    public void FreeFirstOne()
    {
        if (Count > 0)
        {
            FreeLE(buffer[start].Index);
        }
    }

    public void Reset()
    {
        Count = 0;
        Bytes = 0;
        start = 0;
    }
}
