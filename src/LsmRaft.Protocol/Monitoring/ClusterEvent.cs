namespace LsmRaft.Protocol.Monitoring;

/// <summary>
/// Something that happened to the cluster, as one node saw it (the server-sent events of <c>GET /v1/events</c> and
/// <c>lsmraft cluster tail</c>). <see cref="Kind"/> is one of <see cref="ClusterEventKinds"/>; <see cref="Before"/>
/// and <see cref="After"/> hold the old and new value of what changed (a node state, a leader id, a replica set).
/// </summary>
/// <param name="Sequence">Increases by one per event on this node; a reconnecting reader resumes after it (Last-Event-ID).</param>
/// <param name="Text">One line for people, e.g. "shard 3: leader 1 -> 2".</param>
public sealed record ClusterEvent(
    long Sequence,
    DateTimeOffset Time,
    string Kind,
    ulong? NodeId,
    ulong? ShardId,
    string? Before,
    string? After,
    string Text);

/// <summary>The kinds of <see cref="ClusterEvent"/>.</summary>
public static class ClusterEventKinds
{
    /// <summary>A node appeared in the cluster view (joined, or first seen by this node).</summary>
    public const string NodeJoined = "node-joined";

    /// <summary>A node's state changed (up, down, draining, removed); Before/After are the states.</summary>
    public const string NodeState = "node-state";

    /// <summary>A node left the cluster view.</summary>
    public const string NodeLeft = "node-left";

    /// <summary>A shard's leader changed; Before/After are node ids ("none" when there is no leader).</summary>
    public const string LeaderChanged = "leader-changed";

    /// <summary>A shard appeared in the shard map (a split's new shard).</summary>
    public const string ShardAdded = "shard-added";

    /// <summary>A shard left the shard map.</summary>
    public const string ShardRemoved = "shard-removed";

    /// <summary>A shard's replicas, learners or range changed (a move, a split); Before/After describe them.</summary>
    public const string ShardChanged = "shard-changed";

    /// <summary>The stream's first event: the node's cluster view when the reader connected (After = map version).</summary>
    public const string Snapshot = "snapshot";
}
