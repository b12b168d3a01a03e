using LsmRaft.Protocol.Cluster;
using LsmRaft.Protocol.Monitoring;

namespace LsmRaft.Host.Api;

/// <summary>
/// What the admin UI and <c>lsmraft cluster tail</c> read (see MonitorEndpoints): this node's status and traffic,
/// the same gathered from every node, and the live stream of cluster events and traffic samples. A node without one
/// answers those endpoints with 501.
/// </summary>
internal interface INodeMonitor
{
    NodeStatus GetStatus();

    /// <summary>This node's last <paramref name="last"/> traffic samples (at most two minutes' worth), oldest first.</summary>
    TrafficHistory GetTraffic(int last);

    /// <summary>Every node's status, fetched from each node's <c>/v1/node</c> (this node's without a request); a node that does not answer in time has an error instead.</summary>
    Task<IReadOnlyList<NodeReport>> GetAllAsync(CancellationToken cancellationToken);

    /// <summary>The cluster view joined with every node's status: per node uptime and version, per shard the replicas' Raft position, lag and size.</summary>
    Task<ClusterStatus> GetClusterStatusAsync(CancellationToken cancellationToken);

    /// <summary>Every reachable node's traffic history.</summary>
    Task<IReadOnlyList<TrafficHistory>> GetAllTrafficAsync(CancellationToken cancellationToken);

    /// <summary>
    /// The live stream: a snapshot, the kept events after <paramref name="afterSequence"/>, then cluster events as they
    /// happen and (with <paramref name="traffic"/>) every node's traffic sample each second, until cancelled.
    /// </summary>
    IAsyncEnumerable<MonitorItem> StreamAsync(long? afterSequence, bool traffic, CancellationToken cancellationToken);
}

/// <summary>One item of <see cref="INodeMonitor.StreamAsync"/>: a cluster event or a node's traffic sample.</summary>
internal abstract record MonitorItem
{
    public sealed record Event(ClusterEvent Value) : MonitorItem;

    public sealed record Traffic(TrafficSample Value) : MonitorItem;
}
