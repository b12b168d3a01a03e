using LsmRaft.Host.Api;
using LsmRaft.Host.Peer;
using LsmRaft.Protocol.Cluster;

namespace LsmRaft.Host.Node;

/// <summary>
/// Membership commands, served by any node: each records a <see cref="NodeMark"/> in the meta group's shard map;
/// the placement driver on the meta group's leader acts on it (see NodeRuntime.Placement). A node joins by its own
/// handshake (<c>--join</c>); what an operator can do here is admit a drained or removed node again.
/// </summary>
internal sealed class NodeAdmin(NodeRuntime runtime, ShardMapStore maps) : INodeAdmin
{
    public async Task<DrainProgress> DrainAsync(ulong nodeId, CancellationToken cancellationToken)
    {
        await maps.RefreshAsync(stale: false, cancellationToken).ConfigureAwait(false);
        var view = runtime.BuildClusterView();
        Require(view, nodeId);
        if (maps.Marks.GetValueOrDefault(nodeId) is { State: NodeState.Removed })
            throw new OperationConflictException($"Node {nodeId} was removed already; 'lsmraft cluster join <its peer address>' admits it again.");
        if (maps.Marks.GetValueOrDefault(nodeId) is null && Blocked(view, nodeId, Available) is { } blocked)
            throw new OperationConflictException($"Node {nodeId} cannot be drained: {blocked}");
        await maps.UpdateAsync(map => map.WithMark(nodeId, NodeState.Draining, DateTimeOffset.UtcNow), cancellationToken).ConfigureAwait(false);
        return Progress(runtime.BuildClusterView(), nodeId);
    }

    public async Task<DrainProgress> GetDrainAsync(ulong nodeId, CancellationToken cancellationToken)
    {
        await maps.RefreshAsync(stale: false, cancellationToken).ConfigureAwait(false);
        var view = runtime.BuildClusterView();
        Require(view, nodeId);
        return Progress(view, nodeId);
    }

    public async Task<ClusterView> DownAsync(ulong nodeId, bool force, CancellationToken cancellationToken)
    {
        await maps.RefreshAsync(stale: false, cancellationToken).ConfigureAwait(false);
        var node = Require(runtime.BuildClusterView(), nodeId);
        if (!force && runtime.SeemsAlive(nodeId, DateTimeOffset.UtcNow))
        {
            string heartbeat = node.LastHeartbeat is { } at ? $"last heartbeat {(DateTimeOffset.UtcNow - at).TotalSeconds:0.#} s ago" : "connected";
            throw new OperationConflictException($"Node {nodeId} is up ({heartbeat}). 'lsmraft cluster leave {nodeId}' drains a live node gracefully; 'cluster down {nodeId} --force' marks it removed anyway.");
        }
        await maps.UpdateAsync(map => map.WithMark(nodeId, NodeState.Removed, DateTimeOffset.UtcNow), cancellationToken).ConfigureAwait(false);
        return runtime.BuildClusterView();
    }

    public async Task<ClusterView> AdmitAsync(string peerAddress, CancellationToken cancellationToken)
    {
        var wanted = PeerEndpoint.TryParse(peerAddress)
            ?? throw new BadRequestException($"'{peerAddress}' is not a peer address: expected host:port, e.g. 10.0.0.4:8080 (a node's PORT).");
        await maps.RefreshAsync(stale: false, cancellationToken).ConfigureAwait(false);
        var view = runtime.BuildClusterView();
        var node = view.Nodes.FirstOrDefault(n => PeerEndpoint.TryParse(n.PeerAddress) is { } e
                && string.Equals(e.Host, wanted.Host, StringComparison.OrdinalIgnoreCase) && e.Port == wanted.Port)
            ?? throw new ResourceNotFoundException(
                $"No node of the cluster has the peer address {wanted} (members: {string.Join(", ", view.Nodes.Select(n => $"{n.Id} at {n.PeerAddress}"))}). " +
                $"A new node is admitted by its own handshake: start it with 'lsmraft start --join <a member's peer host:port>' and the same cluster id and secret.");
        await maps.UpdateAsync(map => map.WithMark(node.Id, null, DateTimeOffset.UtcNow), cancellationToken).ConfigureAwait(false);
        return runtime.BuildClusterView();
    }

    private static NodeInfo Require(ClusterView view, ulong nodeId) =>
        view.Nodes.FirstOrDefault(n => n.Id == nodeId)
        ?? throw new ResourceNotFoundException($"Node {nodeId} is not a member of the cluster (members: {string.Join(", ", view.Nodes.Select(n => n.Id))}).");

    private DrainProgress Progress(ClusterView view, ulong nodeId)
    {
        var state = view.Nodes.First(n => n.Id == nodeId).State;
        var left = view.Shards.Where(s => s.Replicas.Contains(nodeId) || s.Learners.Contains(nodeId)).Select(s => s.Id).Order().ToList();
        int leads = view.Shards.Count(s => s.Leader == nodeId) + (runtime.LeaderOf(ClusterLayout.MetaGroupId) == nodeId ? 1 : 0);
        return new DrainProgress(nodeId, state, left, leads, runtime.MetaVoters.Contains(nodeId),
            Done: state == NodeState.Removed && left.Count == 0,
            Blocked: state == NodeState.Draining ? Blocked(view, nodeId, Available) : null);
    }

    /// <summary>A node that could take a replica: not marked, and alive.</summary>
    private bool Available(NodeInfo node) =>
        node.State is NodeState.Up or NodeState.Down && runtime.SeemsAlive(node.Id, DateTimeOffset.UtcNow);

    /// <summary>
    /// Why some replica on the node has nowhere to go (every available node holds a voting replica of that shard
    /// already), or null. An up node that is a learner of the shard is the target of a move under way.
    /// </summary>
    internal static string? Blocked(ClusterView view, ulong nodeId, Func<NodeInfo, bool> available)
    {
        var targets = view.Nodes.Where(n => n.Id != nodeId && available(n)).Select(n => n.Id).ToList();
        var stuck = view.Shards
            .Where(s => (s.Replicas.Contains(nodeId) || s.Learners.Contains(nodeId)) && !targets.Any(t => !s.Replicas.Contains(t)))
            .Select(s => s.Id)
            .ToList();
        return stuck.Count == 0 ? null
            : $"no up node without a replica of shard(s) {string.Join(", ", stuck)} can take node {nodeId}'s (up nodes: {(targets.Count == 0 ? "none" : string.Join(", ", targets))}); " +
              "add a node first ('lsmraft start --join <a member's peer host:port>').";
    }
}
