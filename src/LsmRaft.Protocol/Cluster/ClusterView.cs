namespace LsmRaft.Protocol.Cluster;

/// <summary>Lifecycle of a node as the meta group records it.</summary>
public enum NodeState
{
    /// <summary>Member, heartbeating.</summary>
    Up,

    /// <summary>Missed heartbeats for longer than the liveness timeout.</summary>
    Down,

    /// <summary>Being emptied of replicas by an operator.</summary>
    Draining,

    /// <summary>Removed from the cluster.</summary>
    Removed,
}

/// <summary>A node of the cluster: its id, where peers and clients reach it, its state, and its name.</summary>
/// <param name="Name">The node's name as PEER_ID and PEERS give it (<c>n1</c>), or its id in decimal for an integer id (see <see cref="NodeIds"/>).</param>
public sealed record NodeInfo(ulong Id, string PeerAddress, string HttpAddress, NodeState State, DateTimeOffset? LastHeartbeat, string? Name = null)
{
    /// <summary>The name, or the id in decimal when a view (of an earlier version) carries none.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string DisplayName => Name ?? Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>
/// A shard: the keys whose 64-bit hash (see <c>KeyHash</c>) lies in [<see cref="RangeStart"/>, <see cref="RangeEnd"/>]
/// (both inclusive, so the ring's last point 2^64-1 can be owned), replicated by a Raft group on <see cref="Replicas"/>.
/// <see cref="Epoch"/> grows on every change of range or membership, so a stale route can be detected.
/// <see cref="Replicas"/> and <see cref="Learners"/> are node ids; the Raft id of the replica on a listed node is
/// <see cref="ReplicaIdOf"/>.
/// </summary>
/// <param name="Incarnations">
/// Per node, the highest incarnation of this group ever allocated there (<see cref="ReplicaId"/>); a node absent has had
/// only the bootstrap replica (incarnation 0). Entries outlive the replica (a node the group left keeps its entry), so an
/// incarnation is never allocated twice. Invariant: the replica on a node listed in <see cref="Replicas"/> or
/// <see cref="Learners"/> is the one of the highest incarnation. A split's child starts with its parent's entries.
/// </param>
public sealed record ShardInfo(
    ulong Id,
    ulong RangeStart,
    ulong RangeEnd,
    ulong Epoch,
    IReadOnlyList<ulong> Replicas,
    IReadOnlyList<ulong> Learners,
    ulong? Leader,
    IReadOnlyDictionary<ulong, int>? Incarnations = null)
{
    public bool Contains(ulong hash) => hash >= RangeStart && hash <= RangeEnd;

    /// <summary>The Raft id of this group's replica on <paramref name="node"/>: its latest incarnation there.</summary>
    public ReplicaId ReplicaIdOf(ulong node) => new(node, Incarnations?.GetValueOrDefault(node) ?? 0);

    /// <summary>Whether <paramref name="node"/> holds a replica (voter or learner) of this group.</summary>
    public bool IsOn(ulong node) => Replicas.Contains(node) || Learners.Contains(node);

    /// <summary>
    /// This shard with a new incarnation of the group allocated on <paramref name="node"/> (one more than any before),
    /// and the node listed as a learner: the meta group's compare-and-set of the map is the allocation.
    /// </summary>
    /// <exception cref="InvalidOperationException">The node already holds a replica of the group.</exception>
    /// <exception cref="IncarnationsExhaustedException">The node has had <see cref="ReplicaId.MaxIncarnation"/> incarnations of the group.</exception>
    public ShardInfo AllocateIncarnation(ulong node)
    {
        if (IsOn(node))
            throw new InvalidOperationException($"Node {node} already holds a replica of shard {Id}: a new incarnation is allocated only for a node the group is not on.");
        var next = ReplicaIdOf(node).Next();
        var incarnations = new Dictionary<ulong, int>(Incarnations ?? new Dictionary<ulong, int>()) { [node] = next.Incarnation };
        return this with { Learners = [.. Learners, node], Incarnations = incarnations };
    }
}

/// <summary>
/// Cluster-wide placement settings, kept in the meta group with the shard map so every node acts on the same
/// values (the bootstrapping node's configuration supplies them once).
/// </summary>
/// <param name="DownReplicaTimeoutSeconds">A node silent this long has its replicas re-created elsewhere.</param>
/// <param name="Rebalance">Whether replica counts are evened out across live nodes.</param>
public sealed record ClusterSettings(double DownReplicaTimeoutSeconds, bool Rebalance);

/// <summary>
/// A replica on the answering node that stopped for good: its storage could not be opened or kept failing past its
/// restart limit. It stays listed (and the node unready) until the cause is fixed and the node restarted.
/// </summary>
/// <param name="Cause">The failure, as an operator reads it (e.g. which option the engine refused).</param>
/// <param name="Failures">Failed attempts before the replica was given up.</param>
public sealed record FailedReplica(ulong GroupId, ulong NodeId, string Cause, int Failures, DateTimeOffset Since);

/// <summary>
/// The cluster as a node sees it: nodes, the shard map and its version, the cluster-wide settings, and the replicas
/// of the answering node that stopped for good. Served at <c>GET /v1/cluster</c> and cached by clients for routing.
/// </summary>
public sealed record ClusterView(
    string ClusterId,
    ulong MapVersion,
    IReadOnlyList<NodeInfo> Nodes,
    IReadOnlyList<ShardInfo> Shards,
    ClusterSettings? Settings = null,
    IReadOnlyList<FailedReplica>? FailedReplicas = null);
