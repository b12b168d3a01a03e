using System.Collections.Concurrent;
using LsmRaft.Raft;
using LsmRaft.Protocol.Cluster;
using LsmRaft.Protocol.Monitoring;
using LsmRaft.Storage;

namespace LsmRaft.Host.Node;

/// <summary>What this node reports about its replicas and engines to the admin UI (<c>GET /v1/node</c>).</summary>
internal sealed partial class NodeRuntime
{
    /// <summary>Every open engine by group, kept current by the storage actors (ReplicaOptions.EngineChanged).</summary>
    private readonly ConcurrentDictionary<ulong, LsmEngine> _engines = new();

    /// <summary>When <see cref="Start"/> ran.</summary>
    public DateTimeOffset StartedAt { get; private set; } = DateTimeOffset.UtcNow;

    /// <summary>Where peers reach this node (its PEERS entry, or the bind address and PORT).</summary>
    public string OwnPeerAddress => PeerOptions?.OwnPeerAddress ?? "";

    private void OnEngineChanged(ulong groupId, LsmEngine? engine)
    {
        if (engine is null)
            _engines.TryRemove(groupId, out _);
        else
            _engines[groupId] = engine;
    }

    /// <summary>Every replica this node runs, ordered by shard, with its Raft position and engine shape.</summary>
    public IReadOnlyList<ReplicaReport> ReplicaReports()
    {
        var reports = new List<ReplicaReport>();
        foreach (var handle in _replicas.All.OrderBy(r => r.GroupId))
        {
            if (handle.Status is not { } status)
                continue;
            bool learner = status.Members.Learners.Contains(status.NodeId);
            // Reports name nodes (what the UI and CLI show); the Raft ids' incarnations stay inside the group.
            reports.Add(new ReplicaReport(status.GroupId, learner ? "learner" : RoleName(status.Role), status.LeaderNode, status.Term, status.Commit,
                status.Applied, status.Quiesced, status.Members.Voters.Select(ReplicaId.NodeOf).ToArray(), status.Members.Learners.Select(ReplicaId.NodeOf).ToArray(),
                StorageOf(status.GroupId)));
        }
        return reports;
    }

    private StorageReport? StorageOf(ulong groupId)
    {
        if (!_engines.TryGetValue(groupId, out var engine))
            return null;
        EngineStats stats;
        try
        {
            stats = engine.GetStats();
        }
        catch (ObjectDisposedException)
        {
            return null; // closed between the lookup and the read (a snapshot install or a stop)
        }
        return new StorageReport(stats.MemtableBytes, stats.ImmutableMemtables, stats.Levels.Select(l => new LevelReport(l.Level, l.Files, l.Bytes)).ToArray(),
            stats.CompactionDebtBytes, stats.Flushes, stats.Compactions, stats.WriteAmplification, stats.WriteSlowdowns + stats.WriteStops, stats.WriteStallMicros);
    }

    /// <summary>Writes slowed down or stopped by all of this node's open engines since they opened.</summary>
    public long TotalWriteStalls()
    {
        long total = 0;
        foreach (var engine in _engines.Values)
        {
            try
            {
                var stats = engine.GetStats();
                total += stats.WriteSlowdowns + stats.WriteStops;
            }
            catch (ObjectDisposedException)
            {
            }
        }
        return total;
    }

    public CacheReport BlockCacheReport() => new(_blockCache.CapacityBytes, _blockCache.Hits, _blockCache.Misses);

    private static string RoleName(RaftRole role) => role switch
    {
        RaftRole.Leader => "leader",
        RaftRole.Candidate => "candidate",
        RaftRole.PreCandidate => "preCandidate",
        _ => "follower",
    };
}
