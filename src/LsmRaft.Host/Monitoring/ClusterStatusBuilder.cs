using LsmRaft.Host.Node;
using LsmRaft.Protocol.Cluster;
using LsmRaft.Protocol.Monitoring;

namespace LsmRaft.Host.Monitoring;

/// <summary>
/// Joins the cluster view with the nodes' own reports (<c>GET /v1/nodes</c>) into a <see cref="ClusterStatus"/>
/// (<c>GET /v1/cluster/status</c>, read by <c>lsmraft cluster show</c> and <c>shards stats|show</c>). Pure: the
/// caller gathers the reports (a node that did not answer has an error instead) and passes the time.
/// </summary>
internal static class ClusterStatusBuilder
{
    public const string Leader = "leader";

    /// <summary>The role of a replica whose node did not report.</summary>
    public const string Unreported = "unreported";

    public static ClusterStatus Build(ClusterView view, IReadOnlyList<NodeReport> reports, DateTimeOffset now)
    {
        var statuses = reports.Where(r => r.Status is not null).ToDictionary(r => r.NodeId, r => r.Status!);
        // The meta group's members and leader, as its replicas report them (the one with the highest term wins).
        var meta = statuses.Values.SelectMany(s => s.Replicas.Where(r => r.ShardId == ClusterLayout.MetaGroupId))
            .OrderByDescending(r => r.Term)
            .FirstOrDefault();
        var nodes = view.Nodes.OrderBy(n => n.Id).Select(node =>
        {
            var status = statuses.GetValueOrDefault(node.Id);
            string? error = status is null ? reports.FirstOrDefault(r => r.NodeId == node.Id)?.Error ?? "not asked" : null;
            return new NodeSummary(
                node.Id, node.PeerAddress, node.HttpAddress, node.State, node.LastHeartbeat,
                Replicas: view.Shards.Count(s => s.Replicas.Contains(node.Id) || s.Learners.Contains(node.Id)),
                Leads: view.Shards.Count(s => s.Leader == node.Id),
                MetaVoter: meta?.Voters.Contains(node.Id) ?? false,
                MetaLeader: meta is { Leader: not 0 } && meta.Leader == node.Id,
                status?.Version, status?.StartedAt, status?.UptimeSeconds, error);
        }).ToList();
        var shards = view.Shards.OrderBy(s => s.RangeStart).Select(shard => Shard(shard, statuses)).ToList();
        return new ClusterStatus(view.ClusterId, view.MapVersion, now, nodes, shards);
    }

    private static ShardStats Shard(ShardInfo shard, IReadOnlyDictionary<ulong, NodeStatus> statuses)
    {
        ReplicaReport? Of(ulong node) => statuses.GetValueOrDefault(node)?.Replicas.FirstOrDefault(r => r.ShardId == shard.Id);
        var leader = shard.Leader is { } id ? Of(id) : null;
        var replicas = shard.Replicas.Concat(shard.Learners)
            .Select(node =>
            {
                if (Of(node) is not { } own)
                    return new ReplicaStats(node, Unreported, null, null, null, null, null);
                ulong? lag = leader is null ? null : leader.Commit > own.Applied ? leader.Commit - own.Applied : 0;
                return new ReplicaStats(node, own.Role, own.Term, own.Commit, own.Applied, lag, SizeOf(own));
            })
            .ToList();
        ulong? maxLag = replicas.Any(r => r.Lag is not null) ? replicas.Max(r => r.Lag ?? 0) : null;
        return new ShardStats(shard.Id, shard.RangeStart, shard.RangeEnd, shard.Epoch, shard.Leader, shard.Replicas, shard.Learners,
            leader?.Term, leader?.Commit, leader?.Applied, maxLag, leader is null ? null : SizeOf(leader), replicas);
    }

    /// <summary>The replica's data: its memtable and its LSM tables over all levels; null while its engine is closed.</summary>
    private static long? SizeOf(ReplicaReport replica) => replica.Storage is { } storage ? storage.MemtableBytes + storage.Levels.Sum(l => l.Bytes) : null;
}
