using LsmRaft.Protocol.Cluster;

namespace LsmRaft.Host.Node;

/// <summary>What the membership commands ask of this node's view of the others.</summary>
internal sealed partial class NodeRuntime
{
    /// <summary>The meta group's voters, fixed when the cluster was bootstrapped (empty before this node loaded its layout).</summary>
    public IReadOnlyList<ulong> MetaVoters => _layout?.MetaVoters ?? [];

    /// <summary>
    /// The node shows signs of life: its heartbeats are fresh, or this node holds a peer connection to it (heartbeats
    /// can fall behind on a loaded machine while the node is alive).
    /// </summary>
    public bool SeemsAlive(ulong nodeId, DateTimeOffset now) =>
        nodeId == _config.PeerId || LivenessOf(nodeId, now) == NodeState.Up || _dataPlane!.IsConnected(nodeId);
}
