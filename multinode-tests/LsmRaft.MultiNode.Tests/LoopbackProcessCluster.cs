using LsmRaft.Tests.Shared;

namespace LsmRaft.MultiNode.Tests;

/// <summary>
/// A <see cref="ProcessCluster{TName}"/> of nodes 1..n configured as the origin's containers are (PEER_ID, PORT,
/// HTTP_PORT, GROUP_ID, PEERS, DATA_DIR), with free loopback ports in place of the container hosts, a cluster secret,
/// binding to 127.0.0.1, and workstation GC (a shared 2-core test machine; not a setting of the node).
/// </summary>
internal static class LoopbackProcessCluster
{
    /// <summary>Configures (does not start) the nodes; <paramref name="extra"/> is added to every node's environment.</summary>
    public static ProcessCluster<ulong> Configure(string rootPrefix, int nodes, string groupId, string secret, IReadOnlyDictionary<string, string>? extra = null)
    {
        var cluster = new ProcessCluster<ulong>(rootPrefix, id => $"node {id}");
        var ports = LoopbackPorts.FreeNodePorts(nodes); // PORT, HTTP_PORT per node, with PORT + 10000 free for Akka
        string peers = string.Join(",", Enumerable.Range(1, nodes).Select(i => $"{i}:127.0.0.1:{ports[2 * (i - 1)]}"));
        for (ulong id = 1; id <= (ulong)nodes; id++)
        {
            var environment = new Dictionary<string, string>
            {
                ["PEER_ID"] = id.ToString(),
                ["PORT"] = ports[2 * (int)(id - 1)].ToString(),
                ["HTTP_PORT"] = ports[2 * (int)(id - 1) + 1].ToString(),
                ["GROUP_ID"] = groupId,
                ["PEERS"] = peers,
                ["DATA_DIR"] = Path.Combine(cluster.Root, $"n{id}"),
                ["LSMRAFT_CLUSTER_SECRET"] = secret,
                ["LSMRAFT_BIND_ADDRESS"] = "127.0.0.1",
                ["DOTNET_gcServer"] = "0",
            };
            foreach (var (name, value) in extra ?? new Dictionary<string, string>())
                environment[name] = value;
            cluster.Configure(id, environment);
        }
        return cluster;
    }
}
