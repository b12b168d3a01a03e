using System.Net;
using LsmRaft.Tests.Shared;
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
        _configs = configs.ToList();
        Root = root;
    }

    public IReadOnlyList<NodeConfig> Configs => _configs;

    private readonly List<NodeConfig> _configs;

    public string Root { get; }

    /// <summary>
    /// Starts <paramref name="nodes"/> nodes with ids 1..n, or named <paramref name="names"/> (then PEERS lists each name as
    /// its host too, as the origin's <c>n1:n1:8761</c> does, and <see cref="NodeConfig.Hosts"/> maps the names to 127.0.0.1).
    /// The nodes in <paramref name="notStarted"/> are configured but left for the test to run (e.g. through <c>NodeRunner.RunAsync</c>).
    /// </summary>
    public static async Task<InProcessCluster> StartAsync(int nodes, int shardsPerNode = 2, Func<NodeConfig, NodeConfig>? configure = null,
        Func<ulong, LsmRaft.Storage.IO.IFileSystem?>? fileSystemOf = null, IReadOnlyList<string>? names = null, IReadOnlyCollection<ulong>? notStarted = null)
    {
        string root = Path.Combine(Path.GetTempPath(), "lsmraft-cluster-" + Guid.NewGuid().ToString("N"));
        // Peer ports whose default Akka ports (PORT + 10000) are free too, then the HTTP ports.
        var ports = LoopbackPorts.FreePeerPorts(nodes, others: nodes);
        var peers = Enumerable.Range(0, nodes).Select(i => names is null
            ? new PeerAddress((ulong)i + 1, "127.0.0.1", ports[i])
            : new PeerAddress(LsmRaft.Protocol.Cluster.NodeIds.FromName(names[i]), names[i], ports[i]) { Name = names[i] }).ToList();
        var hosts = names?.ToDictionary(n => n, _ => "127.0.0.1", StringComparer.OrdinalIgnoreCase) ?? NodeConfig.NoHosts;
        var configs = peers.Select((p, i) => new NodeConfig
        {
            PeerId = p.Id,
            PeerName = names?[i],
            Hosts = hosts,
            Port = p.Port,
            HttpPort = ports[nodes + i],
            Peers = peers,
            DataDir = Path.Combine(root, $"node{p.Id}"),
            ClusterSecret = "test-cluster-secret-0123456789",
            BindAddress = "127.0.0.1",
            Shards = shardsPerNode,
            RequestTimeout = TimeSpan.FromSeconds(15),
        }).Select(c => configure?.Invoke(c) ?? c).ToList();
        var cluster = new InProcessCluster(configs, root) { FileSystemOf = fileSystemOf };
        foreach (var config in configs.Where(c => notStarted?.Contains(c.PeerId) != true))
            await cluster.StartNodeAsync(config.PeerId);
        return cluster;
    }

    /// <summary>Starts one more node, with no PEERS, that joins through node <paramref name="through"/>'s peer port.</summary>
    public async Task JoinNodeAsync(ulong id, ulong through)
    {
        var ports = LoopbackPorts.FreePeerPorts(1, others: 1);
        var template = Configs.Single(c => c.PeerId == through);
        _configs.Add(template with
        {
            PeerId = id,
            Port = ports[0],
            HttpPort = ports[1],
            Peers = [],
            DataDir = Path.Combine(Root, $"node{id}"),
            Join = $"127.0.0.1:{template.Port}",
        });
        await StartNodeAsync(id);
    }

    /// <summary>Changes a stopped node's configuration for its next start.</summary>
    public void Reconfigure(ulong id, Func<NodeConfig, NodeConfig> change)
    {
        int index = _configs.FindIndex(c => c.PeerId == id);
        _configs[index] = change(_configs[index]);
    }

    /// <summary>Starts node <paramref name="id"/>, on the disk or, when given, on <paramref name="fileSystem"/> (e.g. a crash copy).</summary>
    public async Task StartNodeAsync(ulong id, LsmRaft.Storage.IO.IFileSystem? fileSystem = null)
    {
        var config = Configs.Single(c => c.PeerId == id);
        _nodes[id] = await NodeRunner.StartNodeAsync(config, TextWriter.Null, fileSystem ?? FileSystemOf?.Invoke(id), CancellationToken.None);
    }

    /// <summary>The file system each node starts on (null or a null answer: the disk).</summary>
    public Func<ulong, LsmRaft.Storage.IO.IFileSystem?>? FileSystemOf { get; init; }

    public async Task StopNodeAsync(ulong id)
    {
        if (_nodes.Remove(id, out var node))
            await node.DisposeAsync();
    }

    /// <summary>Stops a node the way <c>demo</c> does (no leadership hand-over); true when its connections ended within the grace period.</summary>
    public async Task<bool> StopNodeWithoutHandOverAsync(ulong id) =>
        _nodes.Remove(id, out var node) && await node.StopAsync(handOverLeadership: false);

    /// <summary>The running node's services (its hosted runtime, monitor, API services).</summary>
    public IServiceProvider Services(ulong id) => _nodes[id].App.Services;

    /// <summary>The running node's runtime (its replicas, map and state).</summary>
    public NodeRuntime Runtime(ulong id) => _nodes[id].Runtime;

    /// <summary>The ids of the nodes running in this fixture now.</summary>
    public IReadOnlyCollection<ulong> Running => _nodes.Keys.ToList();

    public HttpClient ClientFor(ulong id) =>
        new() { BaseAddress = new Uri($"http://127.0.0.1:{Configs.Single(c => c.PeerId == id).HttpPort}"), Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>Waits (on the nodes' change signals, not a timer) until every running node is ready; fails after <paramref name="deadline"/>.</summary>
    public async Task WaitUntilReadyAsync(TimeSpan? deadline = null)
    {
        foreach (var node in _nodes.Values)
        {
            if (!await node.Runtime.WaitUntilReadyAsync(deadline ?? TimeSpan.FromSeconds(30), CancellationToken.None))
                throw new TimeoutException($"Node {node.Runtime.NodeId} did not become ready: {node.Runtime.Reason}");
        }
    }

    /// <summary>Waits until <paramref name="condition"/> holds on node <paramref name="id"/>'s state; fails after <paramref name="deadline"/>.</summary>
    public async Task WaitUntilAsync(ulong id, Func<NodeRuntime, bool> condition, TimeSpan deadline, string what)
    {
        var runtime = _nodes[id].Runtime;
        if (!await runtime.WhenAsync(() => condition(runtime), deadline))
        {
            // What every running node sees, so that a failure can be told apart from slowness.
            var views = string.Join("; ", _nodes.Select(n => $"node {n.Key}: " + string.Join(", ", n.Value.Runtime.BuildClusterView().Shards.Select(s =>
                $"shard {s.Id} replicas [{string.Join(",", s.Replicas)}] learners [{string.Join(",", s.Learners)}] leader {s.Leader?.ToString() ?? "-"}"))));
            throw new TimeoutException($"On node {id}, '{what}' did not happen within {deadline.TotalSeconds:0} s. Cluster views: {views}");
        }
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

}
