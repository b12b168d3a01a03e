using LsmRaft.Raft;

namespace LsmRaft.Actors.Replica;

/// <summary>
/// A replica's durable Raft log and hard state: the core reads it through <see cref="IRaftStorage"/>; the
/// replica writes it with these methods. Production uses the node-wide log (<c>NodeLogReplicaLog</c>);
/// benchmarks and tests may use <see cref="MemoryReplicaLog"/>.
/// </summary>
internal interface IReplicaLog : IRaftStorage
{
    /// <summary>Persists entries (replacing any conflicting suffix) and the hard state; durable when <paramref name="mustSync"/>.</summary>
    ValueTask PersistAsync(IReadOnlyList<Entry> entries, HardState? hardState, bool mustSync, CancellationToken cancellationToken);

    /// <summary>Replaces the whole log with <paramref name="snapshot"/> received from the leader.</summary>
    ValueTask InstallSnapshotAsync(RaftSnapshot snapshot, CancellationToken cancellationToken);

    /// <summary>Records a local snapshot and drops entries up to its index.</summary>
    ValueTask CompactAsync(RaftSnapshot snapshot, CancellationToken cancellationToken);
}

/// <summary>An in-memory <see cref="IReplicaLog"/> (nothing survives the process). For benchmarks and tests.</summary>
internal sealed class MemoryReplicaLog(MemoryRaftStorage storage) : IReplicaLog
{
    public MemoryRaftStorage Storage { get; } = storage;

    public (HardState HardState, ConfState ConfState) InitialState() => Storage.InitialState();

    public IReadOnlyList<Entry> Entries(ulong lo, ulong hi, ulong maxBytes) => Storage.Entries(lo, hi, maxBytes);

    public ulong Term(ulong index) => Storage.Term(index);

    public ulong FirstIndex() => Storage.FirstIndex();

    public ulong LastIndex() => Storage.LastIndex();

    public RaftSnapshot Snapshot() => Storage.Snapshot();

    public ValueTask PersistAsync(IReadOnlyList<Entry> entries, HardState? hardState, bool mustSync, CancellationToken cancellationToken)
    {
        if (entries.Count > 0)
            Storage.Append(entries);
        if (hardState is { } hs)
            Storage.SetHardState(hs);
        return ValueTask.CompletedTask;
    }

    public ValueTask InstallSnapshotAsync(RaftSnapshot snapshot, CancellationToken cancellationToken)
    {
        Storage.ApplySnapshot(snapshot);
        return ValueTask.CompletedTask;
    }

    public ValueTask CompactAsync(RaftSnapshot snapshot, CancellationToken cancellationToken)
    {
        if (snapshot.Index > Storage.Snapshot().Index)
        {
            Storage.CreateSnapshot(snapshot.Index, snapshot.Metadata.ConfState, snapshot.Data);
            Storage.Compact(snapshot.Index);
        }
        return ValueTask.CompletedTask;
    }
}
