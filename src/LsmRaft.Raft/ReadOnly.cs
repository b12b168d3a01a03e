namespace LsmRaft.Raft;

/// <summary>
/// The leader's queue of read-index requests waiting for a quorum to confirm its leadership (ReadOnlyOption.Safe).
/// Requests are confirmed in arrival order: a heartbeat round acknowledged for a later request also confirms
/// every earlier one, because the acknowledgements prove leadership at a time after they all arrived.
/// </summary>
internal sealed class ReadOnly
{
    private readonly Dictionary<string, PendingRead> pending = [];
    private readonly List<string> queue = [];

    /// <summary>Register a request with the commit index at arrival; a duplicate context is ignored.</summary>
    public void AddRequest(ulong index, Message request)
    {
        var key = Key(request.Context!);
        if (pending.ContainsKey(key))
        {
            return;
        }

        pending[key] = new PendingRead(index, request, []);
        queue.Add(key);
    }

    /// <summary>Record that <paramref name="id"/> acknowledged the heartbeat carrying <paramref name="context"/>.</summary>
    public IReadOnlySet<ulong>? RecvAck(ulong id, byte[] context)
    {
        if (!pending.TryGetValue(Key(context), out var read))
        {
            return null;
        }

        read.Acks.Add(id);
        return read.Acks;
    }

    /// <summary>Remove and return every request up to and including the one with <paramref name="context"/>.</summary>
    public IReadOnlyList<PendingRead> Advance(byte[] context)
    {
        var key = Key(context);
        var at = queue.IndexOf(key);
        if (at < 0)
        {
            return [];
        }

        var released = new List<PendingRead>(at + 1);
        for (var i = 0; i <= at; i++)
        {
            released.Add(pending[queue[i]]);
            pending.Remove(queue[i]);
        }

        queue.RemoveRange(0, at + 1);
        return released;
    }

    /// <summary>Context of the newest pending request, sent with heartbeats so their answers confirm it.</summary>
    public byte[]? LastPendingContext() => queue.Count == 0 ? null : pending[queue[^1]].Request.Context;

    public int PendingCount => queue.Count;

    public void Clear()
    {
        pending.Clear();
        queue.Clear();
    }

    private static string Key(byte[] context) => Convert.ToHexString(context);

    internal sealed record PendingRead(ulong Index, Message Request, HashSet<ulong> Acks);
}
