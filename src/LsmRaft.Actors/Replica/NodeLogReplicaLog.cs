using LsmRaft.Actors.Log;
using LsmRaft.Raft;
using LsmRaft.Storage.IO;

namespace LsmRaft.Actors.Replica;

/// <summary>
/// One group's view of the node-wide <see cref="NodeLog"/>: entries and hard state live in the shared
/// log (group commit across groups); the snapshot metadata lives in the replica's directory (written by
/// the storage actor with each checkpoint). Invariant: the log holds entries (snapshot index, last index];
/// entries at or below the snapshot index may already be gone.
/// </summary>
internal sealed class NodeLogReplicaLog : IReplicaLog
{
    private readonly NodeLog _log;
    private readonly ulong _group;
    private RaftSnapshot _snapshot;

    public NodeLogReplicaLog(NodeLog log, ulong groupId, IFileSystem fs, string replicaDirectory, ConfState initialMembers)
    {
        _log = log;
        _group = groupId;
        var latest = SnapshotFiles.Latest(fs, replicaDirectory);
        _snapshot = latest is { } s
            ? new RaftSnapshot(s.Meta, SnapshotFiles.EncodeData(s.Meta.Index))
            : RaftSnapshot.Initial(initialMembers);
    }

    public (HardState HardState, ConfState ConfState) InitialState()
    {
        var hs = _log.GetHardState(_group);
        // The engine may have made applied entries durable (flush) before the commit index that covered
        // them was synced; those entries were committed, so the commit index can be raised to match.
        ulong commit = Math.Max(hs.Commit, _snapshot.Index);
        return (hs with { Commit = Math.Min(commit, LastIndex()) }, _snapshot.Metadata.ConfState);
    }

    public IReadOnlyList<Entry> Entries(ulong lo, ulong hi, ulong maxBytes)
    {
        if (lo < FirstIndex())
            throw new RaftLogCompactedException(lo, FirstIndex());
        if (hi > LastIndex() + 1)
            throw new RaftLogUnavailableException(hi - 1, LastIndex());
        return _log.ReadEntries(_group, lo, hi, maxBytes > long.MaxValue ? long.MaxValue : (long)maxBytes);
    }

    public ulong Term(ulong index)
    {
        if (index == _snapshot.Index)
            return _snapshot.Term;
        if (index < _snapshot.Index)
            throw new RaftLogCompactedException(index, FirstIndex());
        return _log.Term(_group, index) ?? throw new RaftLogUnavailableException(index, LastIndex());
    }

    public ulong FirstIndex() => _snapshot.Index + 1;

    public ulong LastIndex() => Math.Max(_snapshot.Index, _log.LastIndex(_group));

    public RaftSnapshot Snapshot() => _snapshot;

    public async ValueTask PersistAsync(IReadOnlyList<Entry> entries, HardState? hardState, bool mustSync, CancellationToken cancellationToken) =>
        await _log.AppendAsync(_group, entries, hardState, cancellationToken).ConfigureAwait(false);

    public async ValueTask InstallSnapshotAsync(RaftSnapshot snapshot, CancellationToken cancellationToken)
    {
        _snapshot = snapshot;
        await _log.ResetAsync(_group, snapshot.Index, snapshot.Term, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask CompactAsync(RaftSnapshot snapshot, CancellationToken cancellationToken)
    {
        if (snapshot.Index <= _snapshot.Index)
            return;
        _snapshot = snapshot;
        await _log.CompactAsync(_group, snapshot.Index, cancellationToken).ConfigureAwait(false);
    }
}
