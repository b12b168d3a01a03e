using Akka.Actor;
using LsmRaft.Host.Membership;

namespace LsmRaft.Host.Sharding;

/// <summary>A cluster member as the pinned allocation sees it: its address, its roles, and whether it is live (joining or up, and reachable).</summary>
internal readonly record struct RegionMember(Address Address, IReadOnlyCollection<string> Roles, bool Live);

/// <summary>Where a shard may live: the index of the one region allowed to host it, or why none may now.</summary>
internal readonly record struct ReplicaHomeDecision(int Region, string? Refusal)
{
    public static ReplicaHomeDecision Refuse(string reason) => new(-1, reason);
}

/// <summary>
/// The pinned placement rule, pure: shard <c>"&lt;node&gt;"</c> (every replica whose disk is on that node) may live only in
/// the shard region of the live cluster member with the role <c>node-&lt;node&gt;</c>. No other region is ever chosen, not
/// the requester's and not the least loaded: a replica started anywhere else would have no log there, and Raft's safety
/// rests on a voter keeping its log. So when that member is absent, down, unreachable or has no region yet, or when two
/// live members claim the node, the answer is a refusal (the coordinator retries later).
/// </summary>
internal static class ReplicaHome
{
    public static ReplicaHomeDecision Choose(string shardId, IReadOnlyCollection<RegionMember> members, IReadOnlyList<Address> regions)
    {
        if (!ReplicaEntityId.TryParseShard(shardId, out ulong node))
            return ReplicaHomeDecision.Refuse($"shard '{shardId}' is not a node id; replica shards are named by the node that holds their disks");
        string role = ClusterMembership.NodeRole(node);
        var claimed = members.Where(m => m.Roles.Contains(role)).ToList();
        if (claimed.Count == 0)
            return ReplicaHomeDecision.Refuse($"node {node} is not a member of the cluster; its replicas start nowhere else");
        var live = claimed.Where(m => m.Live).ToList();
        if (live.Count == 0)
            return ReplicaHomeDecision.Refuse($"node {node} ({string.Join(", ", claimed.Select(m => m.Address))}) is not joining or up and reachable; its replicas start nowhere else");
        if (live.Count > 1)
            return ReplicaHomeDecision.Refuse($"{live.Count} live members claim node {node} ({string.Join(", ", live.Select(m => m.Address))}); two processes must not share a node id");
        int region = -1;
        for (int i = 0; i < regions.Count; i++)
            if (regions[i] == live[0].Address)
                region = i;
        return region < 0
            ? ReplicaHomeDecision.Refuse($"node {node} ({live[0].Address}) has no replica region registered yet")
            : new ReplicaHomeDecision(region, null);
    }
}
