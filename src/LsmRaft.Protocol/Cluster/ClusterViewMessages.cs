using Google.Protobuf.WellKnownTypes;
using LsmRaft.Protocol.Api.V1;

namespace LsmRaft.Protocol.Cluster;

/// <summary>Converts a <see cref="ClusterView"/> to and from its gRPC form (<c>lsmraft.v1.ClusterInfoResponse</c>), for the server and the client alike.</summary>
public static class ClusterViewMessages
{
    public static ClusterInfoResponse ToMessage(ClusterView view)
    {
        ArgumentNullException.ThrowIfNull(view);
        var message = new ClusterInfoResponse { ClusterId = view.ClusterId, MapVersion = view.MapVersion };
        foreach (var node in view.Nodes)
        {
            message.Nodes.Add(new Node
            {
                Id = node.Id,
                PeerAddress = node.PeerAddress,
                HttpAddress = node.HttpAddress,
                State = node.State switch
                {
                    NodeState.Up => Api.V1.NodeState.Up,
                    NodeState.Down => Api.V1.NodeState.Down,
                    NodeState.Draining => Api.V1.NodeState.Draining,
                    NodeState.Removed => Api.V1.NodeState.Removed,
                    _ => Api.V1.NodeState.Unspecified,
                },
                LastHeartbeat = node.LastHeartbeat is { } heartbeat ? Timestamp.FromDateTimeOffset(heartbeat) : null,
            });
        }
        foreach (var shard in view.Shards)
        {
            var item = new Shard { Id = shard.Id, RangeStart = shard.RangeStart, RangeEnd = shard.RangeEnd, Epoch = shard.Epoch };
            item.Replicas.AddRange(shard.Replicas);
            item.Learners.AddRange(shard.Learners);
            if (shard.Leader is { } leader)
                item.Leader = leader;
            message.Shards.Add(item);
        }
        if (view.Settings is { } settings)
            message.Settings = new Api.V1.ClusterSettings { DownReplicaTimeoutSeconds = settings.DownReplicaTimeoutSeconds, Rebalance = settings.Rebalance };
        return message;
    }

    /// <summary>The view a message describes; a node state this version does not know reads as <see cref="NodeState.Down"/>.</summary>
    public static ClusterView FromMessage(ClusterInfoResponse message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var nodes = message.Nodes.Select(n => new NodeInfo(
            n.Id, n.PeerAddress, n.HttpAddress,
            n.State switch
            {
                Api.V1.NodeState.Up => NodeState.Up,
                Api.V1.NodeState.Draining => NodeState.Draining,
                Api.V1.NodeState.Removed => NodeState.Removed,
                _ => NodeState.Down,
            },
            n.LastHeartbeat?.ToDateTimeOffset())).ToList();
        var shards = message.Shards.Select(s => new ShardInfo(
            s.Id, s.RangeStart, s.RangeEnd, s.Epoch, s.Replicas.ToList(), s.Learners.ToList(), s.HasLeader ? s.Leader : null)).ToList();
        var settings = message.Settings is { } m ? new ClusterSettings(m.DownReplicaTimeoutSeconds, m.Rebalance) : null;
        return new ClusterView(message.ClusterId, message.MapVersion, nodes, shards, settings);
    }
}
