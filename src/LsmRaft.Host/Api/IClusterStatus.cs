using LsmRaft.Protocol.Cluster;

namespace LsmRaft.Host.Api;

/// <summary>
/// Read-only status behind <c>GET /v1/node</c> (this node) and <c>GET /v1/cluster/status</c> (every node's report
/// joined with the cluster view). A node without it answers 501 on both.
/// </summary>
public interface IClusterStatus
{
    /// <summary>This node: version, uptime, and the Raft state and size of each replica it holds.</summary>
    NodeReport GetNodeReport();

    /// <summary>The cluster view joined with every reachable node's report; nodes that do not answer in time say why.</summary>
    Task<ClusterStatus> GetClusterStatusAsync(CancellationToken cancellationToken);
}
