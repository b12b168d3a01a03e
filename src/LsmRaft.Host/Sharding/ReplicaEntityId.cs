using System.Globalization;

namespace LsmRaft.Host.Sharding;

/// <summary>
/// The identity of one replica as a sharded entity: <c>"&lt;group&gt;-&lt;replica&gt;"</c>, the Raft group and the replica's
/// id in it (its Raft member id). Its shard is the node that holds its disk (<see cref="ShardOf"/>), which the entity id
/// alone does not say: messages to the region carry the node (<see cref="ReplicaEntityCommand"/>).
/// </summary>
internal readonly record struct ReplicaEntityId(ulong Group, ulong Replica)
{
    public override string ToString() =>
        Group.ToString(CultureInfo.InvariantCulture) + "-" + Replica.ToString(CultureInfo.InvariantCulture);

    public static bool TryParse(string text, out ReplicaEntityId id)
    {
        id = default;
        int dash = text.IndexOf('-');
        if (dash <= 0
            || !ulong.TryParse(text.AsSpan(0, dash), NumberStyles.None, CultureInfo.InvariantCulture, out ulong group)
            || !ulong.TryParse(text.AsSpan(dash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out ulong replica)
            || replica == 0)
            return false;
        id = new ReplicaEntityId(group, replica);
        return true;
    }

    /// <summary>The shard id of every replica whose disk is on node <paramref name="nodeId"/>: the node id.</summary>
    public static string ShardOf(ulong nodeId) => nodeId.ToString(CultureInfo.InvariantCulture);

    /// <summary>The node a shard id names; false for anything that is not a node id.</summary>
    public static bool TryParseShard(string shardId, out ulong nodeId) =>
        ulong.TryParse(shardId, NumberStyles.None, CultureInfo.InvariantCulture, out nodeId) && nodeId != 0;
}
