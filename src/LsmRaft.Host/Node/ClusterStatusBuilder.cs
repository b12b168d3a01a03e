using LsmRaft.Protocol.Cluster;

namespace LsmRaft.Host.Node;

/// <summary>
/// Joins the cluster view with the nodes' own reports into a <see cref="ClusterStatus"/>. Pure: the caller
/// gathers the reports (a node that did not answer has an error instead) and passes the time.
/// </summary>
internal static class ClusterStatusBuilder
{
    /// <param name="reports">Each node's report, or the reason there is none.</param>
    /// <param name="metaVoters">The meta group's voters.</param>
    public static ClusterStatus Build(ClusterView view, IReadOnlyDictionary<ulong, NodeReportResult> reports, IReadOnlyCollection<ulong> metaVoters, DateTimeOffset now)
    {
        var metaLeader = reports.Values
            .SelectMany(r => r.Report?.Replicas.Where(x => x.ShardId == ClusterLayout.MetaGroupId && x.Role == RoleNames.Leader) ?? [])
            .OrderByDescending(x => x.Term)
            .Select(x => (ulong?)x.Leader)
            .FirstOrDefault();
        var nodes = view.Nodes.OrderBy(n => n.Id).Select(node =>
        {
            var result = reports.GetValueOrDefault(node.Id);
            var report = result?.Report;
            return new NodeSummary(
                node.Id, node.PeerAddress, node.HttpAddress, node.State, node.LastHeartbeat,
                Replicas: view.Shards.Count(s => s.Replicas.Contains(node.Id) || s.Learners.Contains(node.Id)),
                Leads: view.Shards.Count(s => s.Leader == node.Id),
                MetaVoter: metaVoters.Contains(node.Id),
                MetaLeader: metaLeader == node.Id,
                report?.Version, report?.StartedAt, report?.UptimeSeconds,
                report is null ? result?.Error ?? "not asked" : null);
        }).ToList();
        var shards = view.Shards.OrderBy(s => s.RangeStart).Select(shard => Shard(shard, reports)).ToList();
        return new ClusterStatus(view.ClusterId, view.MapVersion, now, nodes, shards);
    }

    private static ShardStats Shard(ShardInfo shard, IReadOnlyDictionary<ulong, NodeReportResult> reports)
    {
        ReplicaReport? Of(ulong node) => reports.GetValueOrDefault(node)?.Report?.Replicas.FirstOrDefault(r => r.ShardId == shard.Id);
        var leader = shard.Leader is { } id ? Of(id) : null;
        var replicas = shard.Replicas.Select(n => (Node: n, Learner: false))
            .Concat(shard.Learners.Select(n => (Node: n, Learner: true)))
            .Select(member =>
            {
                var own = Of(member.Node);
                if (own is null)
                    return new ReplicaStats(member.Node, RoleNames.Unreported, null, null, null, null, null);
                ulong? lag = leader is null ? null : leader.Commit > own.Applied ? leader.Commit - own.Applied : 0;
                return new ReplicaStats(member.Node, member.Learner && own.Role == RoleNames.Follower ? RoleNames.Learner : own.Role,
                    own.Term, own.Commit, own.Applied, lag, own.SizeBytes);
            })
            .ToList();
        ulong? maxLag = replicas.Any(r => r.Lag is not null) ? replicas.Max(r => r.Lag ?? 0) : null;
        return new ShardStats(shard.Id, shard.RangeStart, shard.RangeEnd, shard.Epoch, shard.Leader, shard.Replicas, shard.Learners,
            leader?.Term, leader?.Commit, leader?.Applied, maxLag, leader?.SizeBytes, replicas);
    }
}

/// <summary>A node's report, or why there is none (unreachable, timed out, an error answer).</summary>
internal sealed record NodeReportResult(NodeReport? Report, string? Error);

/// <summary>The role names of <see cref="ReplicaReport.Role"/> and <see cref="ReplicaStats.Role"/>.</summary>
internal static class RoleNames
{
    public const string Leader = "leader";
    public const string Follower = "follower";
    public const string Candidate = "candidate";
    public const string PreCandidate = "precandidate";
    public const string Learner = "learner";

    /// <summary>The node holding the replica did not report (down or unreachable).</summary>
    public const string Unreported = "unreported";
}
