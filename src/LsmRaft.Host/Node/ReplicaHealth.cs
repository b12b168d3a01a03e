using System.Collections.Concurrent;
using LsmRaft.Actors.Replica;
using LsmRaft.Protocol.Cluster;

namespace LsmRaft.Host.Node;

/// <summary>
/// What this node's replicas told it about their health (<see cref="IReplicaHealthObserver"/>): whether each one's
/// storage is open, how often it failed and why, and which replicas stopped for good. Readiness and the cluster view
/// read it; it writes one log line per replica that stops for good (a restart loop logs nothing more at Warning).
/// Thread-safe.
/// </summary>
internal sealed class ReplicaHealth(ulong nodeId, ChangeSignal changed, ILogger logger, TimeProvider time) : IReplicaHealthObserver
{
    private readonly ConcurrentDictionary<ulong, State> _states = new();

    /// <summary>One replica's health. <see cref="Stopped"/> is final for this replica instance.</summary>
    internal sealed record State(bool Open, int Failures, Exception? LastFailure, Exception? Stopped, DateTimeOffset Since);

    public void StorageOpened(ulong groupId)
    {
        var previous = _states.GetValueOrDefault(groupId);
        _states[groupId] = new State(true, 0, null, null, time.GetUtcNow());
        if (previous is { Failures: > 0, LastFailure: { } cause })
            logger.LogInformation("Group {Group}: storage opened after {Failures} failed attempts (last: {Cause})", groupId, previous.Failures, cause.Message);
        changed.Notify();
    }

    public void StorageFailed(ulong groupId, Exception cause)
    {
        _states.AddOrUpdate(groupId,
            _ => new State(false, 1, cause, null, time.GetUtcNow()),
            (_, s) => s with { Open = false, Failures = s.Failures + 1, LastFailure = cause });
        logger.LogDebug("Group {Group}: storage failed: {Cause}", groupId, cause.Message);
        changed.Notify();
    }

    public void ReplicaStopped(ulong groupId, Exception cause)
    {
        var now = time.GetUtcNow();
        var state = _states.AddOrUpdate(groupId,
            _ => new State(false, 1, cause, cause, now),
            (_, s) => s with { Open = false, Stopped = cause, Since = now });
        logger.LogError("Group {Group}: the replica on node {Node} stopped for good after {Failures} failure(s): {Cause}. " +
            "/readyz answers 503 and /v1/cluster lists it under failedReplicas until the cause is fixed and the node restarted.",
            groupId, nodeId, state.Failures, Describe(cause));
        changed.Notify();
    }

    /// <summary>Forgets a replica that was retired from this node (or is about to start afresh).</summary>
    public void Forget(ulong groupId)
    {
        if (_states.TryRemove(groupId, out _))
            changed.Notify();
    }

    public State? Of(ulong groupId) => _states.GetValueOrDefault(groupId);

    /// <summary>The replicas that stopped for good, by group id.</summary>
    public IReadOnlyList<FailedReplica> Failed() =>
        _states.Where(s => s.Value.Stopped is not null)
            .OrderBy(s => s.Key)
            .Select(s => new FailedReplica(s.Key, nodeId, Describe(s.Value.Stopped!), s.Value.Failures, s.Value.Since))
            .ToList();

    /// <summary>An exception as an operator reads it: its message and, when they add something, its inner causes.</summary>
    public static string Describe(Exception cause)
    {
        var text = cause.Message;
        for (var inner = cause.InnerException; inner is not null; inner = inner.InnerException)
            if (!text.Contains(inner.Message, StringComparison.Ordinal))
                text += $" ({inner.Message})";
        return text;
    }
}
