using System.Globalization;
using LsmRaft.Protocol.Cluster;
using LsmRaft.Protocol.Monitoring;

namespace LsmRaft.Host.Monitoring;

/// <summary>
/// The events between two cluster views (pure): nodes that joined, left or changed state, shards whose leader,
/// replicas or range changed, shards added or removed. Sequence numbers and times are the caller's.
/// </summary>
internal static class ClusterEventDiff
{
    /// <summary>An event before it is numbered: (kind, node, shard, before, after, text).</summary>
    internal readonly record struct Change(string Kind, ulong? NodeId, ulong? ShardId, string? Before, string? After, string Text);

    public static List<Change> Between(ClusterView before, ClusterView after)
    {
        var changes = new List<Change>();
        var oldNodes = before.Nodes.ToDictionary(n => n.Id);
        var newNodes = after.Nodes.ToDictionary(n => n.Id);
        foreach (var node in after.Nodes)
        {
            if (!oldNodes.TryGetValue(node.Id, out var old))
                changes.Add(new(ClusterEventKinds.NodeJoined, node.Id, null, null, State(node.State), $"node {node.Id} joined ({node.PeerAddress}, {State(node.State)})"));
            else if (old.State != node.State)
                changes.Add(new(ClusterEventKinds.NodeState, node.Id, null, State(old.State), State(node.State), $"node {node.Id}: {State(old.State)} -> {State(node.State)}"));
        }
        foreach (var node in before.Nodes)
            if (!newNodes.ContainsKey(node.Id))
                changes.Add(new(ClusterEventKinds.NodeLeft, node.Id, null, State(node.State), null, $"node {node.Id} left the cluster"));

        var oldShards = before.Shards.ToDictionary(s => s.Id);
        var newShards = after.Shards.ToDictionary(s => s.Id);
        foreach (var shard in after.Shards)
        {
            if (!oldShards.TryGetValue(shard.Id, out var old))
            {
                changes.Add(new(ClusterEventKinds.ShardAdded, null, shard.Id, null, Describe(shard), $"shard {shard.Id} added: {Describe(shard)}"));
                if (shard.Leader is { } leader)
                    changes.Add(new(ClusterEventKinds.LeaderChanged, leader, shard.Id, "none", Id(leader), $"shard {shard.Id}: leader none -> {leader}"));
                continue;
            }
            if (Describe(old) != Describe(shard))
                changes.Add(new(ClusterEventKinds.ShardChanged, null, shard.Id, Describe(old), Describe(shard), $"shard {shard.Id}: {Describe(old)} -> {Describe(shard)}"));
            if (old.Leader != shard.Leader)
                changes.Add(new(ClusterEventKinds.LeaderChanged, shard.Leader, shard.Id, Leader(old.Leader), Leader(shard.Leader),
                    $"shard {shard.Id}: leader {Leader(old.Leader)} -> {Leader(shard.Leader)} (epoch {shard.Epoch})"));
        }
        foreach (var shard in before.Shards)
            if (!newShards.ContainsKey(shard.Id))
                changes.Add(new(ClusterEventKinds.ShardRemoved, null, shard.Id, Describe(shard), null, $"shard {shard.Id} removed"));
        return changes;
    }

    /// <summary>The first event of a stream: a summary of the view the reader starts from.</summary>
    public static Change Snapshot(ulong self, ClusterView view)
    {
        int up = view.Nodes.Count(n => n.State == NodeState.Up);
        int led = view.Shards.Count(s => s.Leader is not null);
        return new(ClusterEventKinds.Snapshot, self, null, null, view.MapVersion.ToString(CultureInfo.InvariantCulture),
            $"node {self}: {view.Nodes.Count} node(s), {up} up; {view.Shards.Count} shard(s), {led} with a leader; shard map version {view.MapVersion}");
    }

    /// <summary>Range, epoch and replica set in one comparable line, e.g. "epoch 3, replicas 1,2,3, learners 4, range 0000..7fff".</summary>
    private static string Describe(ShardInfo shard)
    {
        string learners = shard.Learners.Count == 0 ? "" : $", learners {string.Join(",", shard.Learners)}";
        return $"epoch {shard.Epoch}, replicas {string.Join(",", shard.Replicas)}{learners}, range {shard.RangeStart:x16}..{shard.RangeEnd:x16}";
    }

    private static string State(NodeState state) => state.ToString().ToLowerInvariant();

    private static string Leader(ulong? id) => id is { } v ? Id(v) : "none";

    private static string Id(ulong id) => id.ToString(CultureInfo.InvariantCulture);
}
