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

    /// <summary>Latest published status (role, leader, term); null until the replica has started.</summary>
    public ReplicaStatus? Status => Volatile.Read(ref _status);

    /// <summary>Set when the replica exhausted its restarts and stopped for good: the last failure.</summary>
    public Exception? Failure => Volatile.Read(ref _failure);

    /// <summary>When the replica may start again after a failure (used by the actor's incarnations in turn).</summary>
    public RestartBackoff Backoff { get; init; } = new(RestartPolicy.Default);

    /// <summary>Client requests admitted and not yet answered, at most <see cref="MaxInFlightRequests"/>.</summary>
    public InFlightLimit Requests { get; } = new(maxInFlightRequests);

    public int MaxInFlightRequests => Requests.Limit;

    internal void Publish(ReplicaStatus status) => Volatile.Write(ref _status, status);

    internal void ReportFailed(Exception failure) => Volatile.Write(ref _failure, failure);
}
