using LsmRaft.Raft;

namespace LsmRaft.Simulation;

/// <summary>
/// A node's simulated disk: the durable Raft state (snapshot, entries, hard state) plus the writes issued
/// since the last fsync. Each <see cref="Write"/> is one Ready's batch and reaches the platter atomically;
/// a crash keeps a random prefix of the unsynced batches (a log device writes in order) and loses the rest.
/// </summary>
/// <remarks>
/// Invariant: the node's working storage equals <see cref="Durable"/> with every pending batch applied in order.
/// </remarks>
internal sealed class SimDisk
{
    private readonly List<PendingWrite> pending = [];

    public SimDisk(ConfState initial)
    {
        Durable = new MemoryRaftStorage(initial);
    }

    /// <summary>What survives a crash.</summary>
    public MemoryRaftStorage Durable { get; private set; }

    /// <summary>
    /// The host retired this node's replica and forgot its log (NodeLog.ForgetAsync): only the term and vote stay,
    /// commit goes back to 0, the configuration is empty (the replica is created again knowing no members).
    /// </summary>
    public void Forget()
    {
        pending.Clear();
        var kept = Durable.HardState;
        Durable = new MemoryRaftStorage(ConfState.Empty);
        Durable.SetHardState(kept with { Commit = 0 });
    }

    public bool HasPending => pending.Count > 0;

    public void Write(RaftSnapshot? snapshot, IReadOnlyList<Entry> entries, HardState? hardState)
    {
        if (snapshot is not null || entries.Count > 0 || hardState is not null)
        {
            pending.Add(new PendingWrite(snapshot, entries, hardState));
        }
    }

    /// <summary>fsync: every pending batch becomes durable. Calls <paramref name="onDurable"/> with each batch's entries.</summary>
    public void Sync(Action<IReadOnlyList<Entry>>? onDurable)
    {
        foreach (var write in pending)
        {
            Apply(write);
            if (write.Entries.Count > 0)
            {
                onDurable?.Invoke(write.Entries);
            }
        }

        pending.Clear();
    }

    /// <summary>Power loss: a random prefix of the unsynced batches made it to disk; the rest is gone.</summary>
    public void Crash(Random random, Action<IReadOnlyList<Entry>>? onDurable)
    {
        var keep = random.Next(pending.Count + 1);
        for (var i = 0; i < keep; i++)
        {
            Apply(pending[i]);
            if (pending[i].Entries.Count > 0)
            {
                onDurable?.Invoke(pending[i].Entries);
            }
        }

        pending.Clear();
    }

    /// <summary>A fresh working storage equal to the durable state (what a restarted process reads back).</summary>
    public MemoryRaftStorage Load()
    {
        var snapshot = Durable.Snapshot();
        var copy = new MemoryRaftStorage(snapshot);
        var first = Durable.FirstIndex();
        var last = Durable.LastIndex();
        if (last >= first)
        {
            copy.Append(Durable.Entries(first, last + 1, ulong.MaxValue));
        }

        copy.SetHardState(Durable.HardState);
        return copy;
    }

    /// <summary>Take a snapshot at <paramref name="index"/> and drop the entries it covers. Requires no pending writes.</summary>
    public void Compact(ulong index, ConfState conf, byte[] data)
    {
        if (pending.Count > 0)
        {
            throw new InvalidOperationException("Sync the disk before compacting it.");
        }

        Durable.CreateSnapshot(index, conf, data);
        Durable.Compact(index);
    }

    private void Apply(PendingWrite write)
    {
        if (write.Snapshot is { } snapshot)
        {
            Durable.ApplySnapshot(snapshot);
        }

        Durable.Append(write.Entries);
        if (write.HardState is { } hard)
        {
            Durable.SetHardState(hard);
        }
    }

    private sealed record PendingWrite(RaftSnapshot? Snapshot, IReadOnlyList<Entry> Entries, HardState? HardState);
}
