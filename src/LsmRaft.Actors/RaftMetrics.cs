using System.Diagnostics;
using System.Diagnostics.Metrics;
using LsmRaft.Raft;

namespace LsmRaft.Actors;

/// <summary>
/// Instruments of a node's Raft shell: its replicas (<see cref="Replica.ReplicaOptions.Metrics"/>) and its node log
/// (<see cref="Log.NodeLogOptions.Metrics"/>). One instance per node, from that node's <see cref="IMeterFactory"/>, so
/// nodes sharing a process keep their figures apart. The pure core has none: the shell counts what the core's
/// Readies and statuses show.
/// </summary>
/// <remarks>
/// Meter <see cref="MeterName"/>: <c>lsmraft.raft.proposals</c> (<c>result</c> = ok, not_leader, rejected),
/// <c>lsmraft.raft.committed</c> (entries), <c>lsmraft.raft.elections</c> (campaigns this node started),
/// <c>lsmraft.raft.leader_changes</c> (a replica saw a new leader), <c>lsmraft.raft.snapshots</c>
/// (<c>direction</c> = sent, received; <c>result</c> = ok, failed), <c>lsmraft.raft.replicas</c>,
/// <c>lsmraft.raft.leaders</c>, <c>lsmraft.raft.quiesced</c> (groups whose replica here is quiesced);
/// <c>lsmraft.nodelog.append.duration</c> and <c>lsmraft.nodelog.fsync.duration</c> (seconds, per batch),
/// <c>lsmraft.nodelog.batch.requests</c> (replica writes per batch), <c>lsmraft.nodelog.batch.size</c> (bytes).
/// </remarks>
internal sealed class RaftMetrics : IDisposable
{
    public const string MeterName = "LsmRaft.Raft";

    private static readonly double[] SecondsBuckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
    private static readonly KeyValuePair<string, object?> ResultOk = new("result", "ok");
    private static readonly KeyValuePair<string, object?> ResultFailed = new("result", "failed");

    private readonly Meter _meter;
    private readonly Counter<long> _proposals;
    private readonly Counter<long> _committed;
    private readonly Counter<long> _elections;
    private readonly Counter<long> _leaderChanges;
    private readonly Counter<long> _snapshots;
    private readonly UpDownCounter<long> _replicas;
    private readonly UpDownCounter<long> _leaders;
    private readonly UpDownCounter<long> _quiesced;
    private readonly Histogram<double> _appendSeconds;
    private readonly Histogram<double> _fsyncSeconds;
    private readonly Histogram<long> _batchRequests;
    private readonly Histogram<long> _batchBytes;

    public RaftMetrics(IMeterFactory meterFactory, IEnumerable<KeyValuePair<string, object?>>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        _meter = meterFactory.Create(new MeterOptions(MeterName) { Tags = tags });
        _proposals = _meter.CreateCounter<long>("lsmraft.raft.proposals", "{proposal}", "Proposals (writes and membership changes) handed to a replica, by result");
        _committed = _meter.CreateCounter<long>("lsmraft.raft.committed", "{entry}", "Committed entries handed to the state machines");
        _elections = _meter.CreateCounter<long>("lsmraft.raft.elections", "{election}", "Elections a replica on this node started (it became a candidate)");
        _leaderChanges = _meter.CreateCounter<long>("lsmraft.raft.leader_changes", "{change}", "Times a replica on this node saw a new leader of its group");
        _snapshots = _meter.CreateCounter<long>("lsmraft.raft.snapshots", "{snapshot}", "Snapshots sent to followers and installed from leaders");
        _replicas = _meter.CreateUpDownCounter<long>("lsmraft.raft.replicas", "{replica}", "Replicas running on this node");
        _leaders = _meter.CreateUpDownCounter<long>("lsmraft.raft.leaders", "{group}", "Groups whose leader is on this node");
        _quiesced = _meter.CreateUpDownCounter<long>("lsmraft.raft.quiesced", "{group}", "Replicas on this node whose group is quiesced (idle, not ticking)");
        _appendSeconds = _meter.CreateHistogram("lsmraft.nodelog.append.duration", "s", "Time to write one batch of the node log (encode, append, fsync)",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondsBuckets });
        _fsyncSeconds = _meter.CreateHistogram("lsmraft.nodelog.fsync.duration", "s", "Time of one fsync of the node log",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondsBuckets });
        _batchRequests = _meter.CreateHistogram<long>("lsmraft.nodelog.batch.requests", "{request}", "Replica writes that one node-log batch (one fsync) carried",
            advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024] });
        _batchBytes = _meter.CreateHistogram<long>("lsmraft.nodelog.batch.size", "By", "Payload bytes of one node-log batch",
            advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = [256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304] });
        // The gauges exist from the start, at zero, rather than from their first change.
        _replicas.Add(0);
        _leaders.Add(0);
        _quiesced.Add(0);
    }

    public void Proposed(RaftResultCode result) =>
        _proposals.Add(1, new KeyValuePair<string, object?>("result", result switch
        {
            RaftResultCode.Ok => "ok",
            RaftResultCode.NotLeader => "not_leader",
            _ => "rejected",
        }));

    public void Committed(int entries) => _committed.Add(entries);

    public void SnapshotSent(bool ok) => _snapshots.Add(1, new KeyValuePair<string, object?>("direction", "sent"), ok ? ResultOk : ResultFailed);

    public void SnapshotReceived() => _snapshots.Add(1, new KeyValuePair<string, object?>("direction", "received"), ResultOk);

    public void ReplicaStarted() => _replicas.Add(1);

    /// <summary>A replica stopped: it no longer counts, nor does its last role or quiescence.</summary>
    public void ReplicaStopped(RaftRole lastRole, bool quiesced)
    {
        _replicas.Add(-1);
        if (lastRole == RaftRole.Leader)
            _leaders.Add(-1);
        if (quiesced)
            _quiesced.Add(-1);
    }

    /// <summary>Counts what changed between two statuses a replica published (<paramref name="before"/> null: its first).</summary>
    public void StatusChanged(RaftRole? beforeRole, ulong beforeLeader, RaftRole role, ulong leader)
    {
        if (role == RaftRole.Candidate && beforeRole != RaftRole.Candidate)
            _elections.Add(1);
        if (leader != 0 && leader != beforeLeader)
            _leaderChanges.Add(1);
        if ((role == RaftRole.Leader) != (beforeRole == RaftRole.Leader))
            _leaders.Add(role == RaftRole.Leader ? 1 : -1);
    }

    public void QuiescedChanged(bool quiesced) => _quiesced.Add(quiesced ? 1 : -1);

    /// <summary>One node-log batch written: its requests, payload bytes and the time since <paramref name="startTimestamp"/>.</summary>
    public void BatchWritten(int requests, long bytes, long startTimestamp)
    {
        _appendSeconds.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds);
        _batchRequests.Record(requests);
        _batchBytes.Record(bytes);
    }

    public void Fsynced(long elapsedTicks) => _fsyncSeconds.Record(elapsedTicks / (double)Stopwatch.Frequency);

    public void Dispose() => _meter.Dispose();
}
