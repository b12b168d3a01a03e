using LsmRaft.Protocol.Cluster;
using LsmRaft.Protocol.Hashing;

namespace LsmRaft.Host.Node;

/// <summary>
/// The initial layout of a new cluster, computed the same way by every node from the same settings
/// (PEERS, SHARDS, replication factor), so the nodes can start their replicas at once without first
/// agreeing on it: the meta group (id 0) on the first min(5, n) nodes by id, and shards 1..S·n over
/// equal slices of the hash ring with replicas placed round-robin (no node holds two replicas of a shard;
/// counts differ by at most one). Pure: no I/O, no clock.
/// </summary>
internal static class ClusterLayout
{
    public const ulong MetaGroupId = 0;
    public const int MaxMetaVoters = 5;

    public static IReadOnlyList<ulong> MetaVoters(IReadOnlyList<ulong> nodes) =>
        nodes.Order().Take(MaxMetaVoters).ToArray();

    public static IReadOnlyList<ShardInfo> InitialShards(IReadOnlyList<ulong> nodes, int shardsPerNode, int replicationFactor)
    {
        if (nodes.Count == 0)
            throw new ArgumentException("A cluster needs at least one node.", nameof(nodes));
        if (replicationFactor < 1 || replicationFactor > nodes.Count)
            throw new ArgumentOutOfRangeException(nameof(replicationFactor), $"Replication factor {replicationFactor} must be between 1 and the node count {nodes.Count}.");
        var sorted = nodes.Order().ToArray();
        int count = shardsPerNode * sorted.Length;
        var ranges = KeyHash.SplitRing(count);
        var shards = new ShardInfo[count];
        for (int i = 0; i < count; i++)
        {
            var replicas = new ulong[replicationFactor];
            for (int r = 0; r < replicationFactor; r++)
                replicas[r] = sorted[(i + r) % sorted.Length];
            shards[i] = new ShardInfo((ulong)i + 1, ranges[i].Start, ranges[i].End, Epoch: 1, replicas, Array.Empty<ulong>(), Leader: null);
        }
        return shards;
    }
}
