using LsmRaft.Actors.Replica;
using LsmRaft.Raft;

namespace LsmRaft.Actors.Tests.Akka;

/// <summary>
/// A replica log whose asynchronous writes count as work for an <see cref="IdleTracker"/> until their completion
/// has been handed to the replica: the write's own task is completed, with its continuations run inline, from
/// inside the tracked span.
/// </summary>
internal sealed class TrackedReplicaLog(IReplicaLog inner, IdleTracker tracker) : IReplicaLog
{
    public (HardState HardState, ConfState ConfState) InitialState() => inner.InitialState();

    public IReadOnlyList<Entry> Entries(ulong lo, ulong hi, ulong maxBytes) => inner.Entries(lo, hi, maxBytes);

    public ulong Term(ulong index) => inner.Term(index);

    public ulong FirstIndex() => inner.FirstIndex();

    public ulong LastIndex() => inner.LastIndex();

    public RaftSnapshot Snapshot() => inner.Snapshot();

    public ValueTask PersistAsync(IReadOnlyList<Entry> entries, HardState? hardState, bool mustSync, CancellationToken cancellationToken) =>
        Track(inner.PersistAsync(entries, hardState, mustSync, cancellationToken));

    public ValueTask InstallSnapshotAsync(RaftSnapshot snapshot, CancellationToken cancellationToken) =>
        Track(inner.InstallSnapshotAsync(snapshot, cancellationToken));

    public ValueTask CompactAsync(RaftSnapshot snapshot, CancellationToken cancellationToken) =>
        Track(inner.CompactAsync(snapshot, cancellationToken));

    private ValueTask Track(ValueTask write)
    {
        if (write.IsCompleted)
            return write;
        tracker.Begin();
        // No RunContinuationsAsynchronously: the replica's continuation (which tells it the write ended) runs inside SetResult.
        var done = new TaskCompletionSource();
        write.AsTask().ContinueWith(t =>
        {
            try
            {
                if (t.Exception is { } error)
                    done.SetException(error.InnerExceptions);
                else
                    done.SetResult();
            }
            finally
            {
                tracker.End();
            }
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return new ValueTask(done.Task);
    }
}
