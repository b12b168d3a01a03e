using System.Security.Cryptography;
using LsmRaft.Host.Config;

namespace LsmRaft.Host.Cli;

/// <summary>
/// Runs node processes for <c>lsmraft start</c> and <c>lsmraft demo</c>. The node runtime implements it and is passed
/// to <see cref="RootCommandFactory.Run(string[], INodeRunner?)"/>; without one those commands exit with code 3.
/// </summary>
public interface INodeRunner
{
    /// <summary>Runs one node until <paramref name="cancellationToken"/> fires (Ctrl-C, SIGTERM), then shuts it down gracefully; returns the exit code.</summary>
    Task<int> RunAsync(NodeConfig config, CancellationToken cancellationToken);

    /// <summary>Runs a local cluster of <see cref="DemoOptions.BuildNodeConfigs"/> in this process until cancelled; returns the exit code.</summary>
    Task<int> RunDemoAsync(DemoOptions options, CancellationToken cancellationToken);
}

/// <summary>
/// A local demo cluster: <see cref="Nodes"/> nodes on <see cref="BindAddress"/>, node i (1-based) with peer port
/// BasePort + 2(i-1) and HTTP port one above it, data under <see cref="DataDir"/>/node{i}.
/// </summary>
public sealed record DemoOptions(int Nodes, string DataDir, int BasePort, string BindAddress, string ClusterSecret)
{
    public const int DefaultNodes = 3;
    public const int DefaultBasePort = 8080;

    /// <summary>Demo options with a fresh random cluster secret.</summary>
    public static DemoOptions Create(int nodes = DefaultNodes, string dataDir = "./data", int basePort = DefaultBasePort) =>
        new(nodes, dataDir, basePort, "127.0.0.1", Convert.ToHexString(RandomNumberGenerator.GetBytes(24)));

    /// <summary>The nodes' configurations, or the reasons the options cannot make a valid cluster.</summary>
    public (IReadOnlyList<NodeConfig> Configs, IReadOnlyList<string> Errors) BuildNodeConfigs()
    {
        var errors = new List<string>();
        if (Nodes is < 1 or > 9)
            errors.Add($"--nodes is {Nodes}: expected an integer from 1 to 9.");
        if (BasePort < 1 || BasePort + 2 * Math.Max(Nodes, 1) - 1 > 65535)
            errors.Add($"--base-port is {BasePort}: expected a port such that {Nodes} nodes' ports (base to base+{2 * Nodes - 1}) lie within 1..65535.");
        if (errors.Count > 0)
            return ([], errors);
        var peers = Enumerable.Range(1, Nodes).Select(i => new PeerAddress((ulong)i, BindAddress, BasePort + 2 * (i - 1))).ToList();
        var configs = peers.Select(peer => new NodeConfig
        {
            PeerId = peer.Id,
            Port = peer.Port,
            HttpPort = peer.Port + 1,
            Peers = peers,
            DataDir = Path.Combine(DataDir, $"node{peer.Id}"),
            ClusterSecret = ClusterSecret,
            BindAddress = BindAddress,
        }).ToList();
        foreach (var config in configs)
            errors.AddRange(ConfigLoader.Validate(config).Select(e => $"node {config.PeerId}: {e}"));
        return (configs, errors);
    }

    /// <summary>The HTTP endpoints of the demo's nodes, for printing.</summary>
    public IEnumerable<Uri> HttpEndpoints() =>
        Enumerable.Range(0, Nodes).Select(i => new Uri($"http://{BindAddress}:{BasePort + 2 * i + 1}"));
}
