using LsmRaft.Protocol.Cluster;

namespace LsmRaft.Host.Node;

/// <summary>What the membership commands ask of this node's view of the others.</summary>
internal sealed partial class NodeRuntime
{
    /// <summary>The meta group's voters, fixed when the cluster was bootstrapped (empty before this node loaded its layout).</summary>
    public IReadOnlyList<ulong> MetaVoters => _layout?.MetaVoters ?? [];

    /// <summary>
    /// The node shows signs of life: it is an up, reachable cluster member, or this node holds a peer connection to it
    /// (a node that has just joined or restarted is connected before Akka's membership marks it up).
    /// </summary>
    public bool SeemsAlive(ulong nodeId, DateTimeOffset now) =>
        nodeId == _config.PeerId || LivenessOf(nodeId, now) == NodeState.Up || _dataPlane!.IsConnected(nodeId);
}
