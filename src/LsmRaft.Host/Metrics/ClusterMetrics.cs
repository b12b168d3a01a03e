using System.Diagnostics.Metrics;
using LsmRaft.Protocol.Cluster;

namespace LsmRaft.Host.Metrics;

/// <summary>
/// Cluster membership as this node sees it (the meta group's node registry): <c>lsmraft.cluster.nodes</c>, tagged
/// <c>state</c> (up, down, draining, ...), observed at each collection; and <c>lsmraft.cluster.shards</c>, the shards
/// of the map. Meter <see cref="MeterName"/>. Leaders held are <c>lsmraft.raft.leaders</c>.
/// </summary>
internal sealed class ClusterMetrics
{
    public const string MeterName = "LsmRaft.Cluster";

    public ClusterMetrics(IMeterFactory meterFactory, Func<ClusterView?> view)
    {
        var meter = meterFactory.Create(MeterName);
        meter.CreateObservableUpDownCounter("lsmraft.cluster.nodes", () => CountNodes(view()), "{node}", "Nodes of the cluster by state, as this node sees them");
        meter.CreateObservableUpDownCounter("lsmraft.cluster.shards", () => view()?.Shards.Count ?? 0, "{shard}", "Shards in the shard map as this node knows it");
    }

    private static IEnumerable<Measurement<int>> CountNodes(ClusterView? view)
    {
        if (view is null)
            return [];
        // Every state appears, at zero when no node is in it, so a node going down moves a series instead of adding one.
        return Enum.GetValues<NodeState>().Select(state => new Measurement<int>(view.Nodes.Count(n => n.State == state),
            new KeyValuePair<string, object?>("state", state.ToString().ToLowerInvariant())));
    }
}
