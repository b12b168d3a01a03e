namespace LsmRaft.Actors.Replica;

/// <summary>
/// What outlives one incarnation of a replica actor and is read without a mailbox round trip: its latest status
/// (routers read the role and leader on every request), its restart history, whether it stopped for good, and the
/// per-replica bound on requests in flight (Akka mailboxes are unbounded; this keeps an overloaded replica's queue
/// bounded). The actor writes; anyone reads.
/// </summary>
internal sealed class ReplicaMonitor(int maxInFlightRequests = ReplicaMonitor.DefaultMaxInFlightRequests)
{
    /// <summary>The default of the in-flight bound: the size of the mailbox the replica had before Akka.</summary>
    public const int DefaultMaxInFlightRequests = 1024;

    private ReplicaStatus? _status;
    private Exception? _failure;
    private int _inFlight;

    /// <summary>Latest published status (role, leader, term); null until the replica has started.</summary>
    public ReplicaStatus? Status => Volatile.Read(ref _status);

    /// <summary>Set when the replica exhausted its restarts and stopped for good: the last failure.</summary>
    public Exception? Failure => Volatile.Read(ref _failure);

    /// <summary>When the replica may start again after a failure (used by the actor's incarnations in turn).</summary>
    public RestartBackoff Backoff { get; init; } = new(RestartPolicy.Default);

    public int MaxInFlightRequests { get; } = maxInFlightRequests >= 1
        ? maxInFlightRequests
        : throw new ArgumentOutOfRangeException(nameof(maxInFlightRequests), maxInFlightRequests, "At least one request must be allowed in flight.");

    /// <summary>Requests admitted and not yet answered.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Admits a request when fewer than <see cref="MaxInFlightRequests"/> are in flight; a true result must be paired with <see cref="Release"/>.</summary>
    public bool TryAdmit()
    {
        if (Interlocked.Increment(ref _inFlight) <= MaxInFlightRequests)
            return true;
        Interlocked.Decrement(ref _inFlight);
        return false;
    }

    public void Release() => Interlocked.Decrement(ref _inFlight);

    internal void Publish(ReplicaStatus status) => Volatile.Write(ref _status, status);

    internal void ReportFailed(Exception failure) => Volatile.Write(ref _failure, failure);
}
