namespace LsmRaft.Actors.Replica;

/// <summary>
/// Told by a replica's actors how the replica fares, so a host can report it (readiness, the cluster view, one log
/// line) without asking them. Whatever hosts the actors (the kernel today) calls it from the actors' own threads:
/// implementations are thread-safe and quick, and never call back into the replica.
/// </summary>
internal interface IReplicaHealthObserver
{
    /// <summary>The replica's storage (its engine) opened, on the first start or after a restart.</summary>
    void StorageOpened(ulong groupId);

    /// <summary>The replica's storage failed to open or failed while running; its supervisor restarts it or gives up.</summary>
    void StorageFailed(ulong groupId, Exception cause);

    /// <summary>
    /// The replica stopped for good because of <paramref name="cause"/>: a failure restarting cannot fix (see
    /// <see cref="RestartPolicy.IsPermanent"/>), or more than <see cref="RestartPolicy.MaxRestarts"/> failures within
    /// <see cref="RestartPolicy.Window"/>. Called at most once per replica instance; a graceful stop is not reported.
    /// </summary>
    void ReplicaStopped(ulong groupId, Exception cause);
}
