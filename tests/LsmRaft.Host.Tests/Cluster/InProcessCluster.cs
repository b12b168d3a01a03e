using System.Net;
using System.Net.Sockets;
using LsmRaft.Host.Config;
using LsmRaft.Host.Node;

namespace LsmRaft.Host.Tests.Cluster;

/// <summary>
/// Real nodes (runtime, Kestrel, TCP peer transport) in this test process on free loopback ports, with
/// data in a temporary directory that is deleted afterwards.
/// </summary>
internal sealed class InProcessCluster : IAsyncDisposable
{
    private readonly Dictionary<ulong, NodeRunner.RunningNode> _nodes = new();

    private InProcessCluster(IReadOnlyList<NodeConfig> configs, string root)
    {
        Configs = configs;
        Root = root;
    }

    public IReadOnlyList<NodeConfig> Configs { get; }

    public string Root { get; }

    public static async Task<InProcessCluster> StartAsync(int nodes, int shardsPerNode = 2)
    {
        string root = Path.Combine(Path.GetTempPath(), "lsmraft-cluster-" + Guid.NewGuid().ToString("N"));
        var ports = FreePorts(nodes * 2);
        var peers = Enumerable.Range(0, nodes).Select(i => new PeerAddress((ulong)i + 1, "127.0.0.1", ports[2 * i])).ToList();
        var configs = peers.Select((p, i) => new NodeConfig
        {
            PeerId = p.Id,
            Port = p.Port,
            HttpPort = ports[2 * i + 1],
            Peers = peers,
            DataDir = Path.Combine(root, $"node{p.Id}"),
            ClusterSecret = "test-cluster-secret-0123456789",
            BindAddress = "127.0.0.1",
            Shards = shardsPerNode,
            RequestTimeout = TimeSpan.FromSeconds(15),
        }).ToList();
        var cluster = new InProcessCluster(configs, root);
        foreach (var config in configs)
            await cluster.StartNodeAsync(config.PeerId);
        return cluster;
    }

    public async Task StartNodeAsync(ulong id)
    {
        var config = Configs.Single(c => c.PeerId == id);
        _nodes[id] = await NodeRunner.StartNodeAsync(config, TextWriter.Null, CancellationToken.None);
    }

    public async Task StopNodeAsync(ulong id)
    {
        if (_nodes.Remove(id, out var node))
            await node.DisposeAsync();
    }

    public HttpClient ClientFor(ulong id) =>
        new() { BaseAddress = new Uri($"http://127.0.0.1:{Configs.Single(c => c.PeerId == id).HttpPort}"), Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>Polls readiness (bounded: at most <paramref name="attempts"/> checks, 100 ms apart) until every running node is ready.</summary>
    public async Task WaitUntilReadyAsync(int attempts = 300)
    {
        for (int i = 0; i < attempts; i++)
        {
            if (_nodes.Values.All(n => n.Runtime.IsReady))
                return;
            await Task.Delay(100);
        }
        throw new TimeoutException("The cluster did not become ready: " + string.Join("; ", _nodes.Values.Select(n => $"node {n.Runtime.NodeId}: {n.Runtime.Reason}")));
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var id in _nodes.Keys.ToList())
            await StopNodeAsync(id);
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static int[] FreePorts(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        foreach (var l in listeners)
            l.Start();
        var ports = listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        foreach (var l in listeners)
            l.Stop();
        return ports;
    }
}
