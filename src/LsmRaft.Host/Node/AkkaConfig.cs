using System.Globalization;
using System.Text;
using LsmRaft.Actors.Background;
using LsmRaft.Host.Config;
using LsmRaft.Host.Membership;

namespace LsmRaft.Host.Node;

/// <summary>
/// Where a node's Akka configuration comes from: <c>hocon/lsmraft.conf</c> and <c>hocon/cluster.conf</c> beside the
/// binary, then the node's settings (JSON file, environment, flags) rendered as HOCON in front of them, so they win
/// (docs/configuration.md).
/// </summary>
internal static class AkkaConfig
{
    /// <summary>The HOCON file every node loads, as the build copies it next to the binary.</summary>
    public static string MainFile => Path.Combine(AppContext.BaseDirectory, "hocon", "lsmraft.conf");

    /// <summary>Remoting, cluster membership and the split-brain resolver, loaded after (below) <see cref="MainFile"/>.</summary>
    public static string ClusterFile => Path.Combine(AppContext.BaseDirectory, "hocon", "cluster.conf");

    /// <summary>Throws naming the missing file and how to restore it; checked before any actor system starts.</summary>
    public static void RequireFiles()
    {
        foreach (var file in new[] { MainFile, ClusterFile })
            if (!File.Exists(file))
                throw new FileNotFoundException($"The Akka configuration '{file}' is missing: it ships in the hocon/ folder beside the lsmraft binary (rebuild or reinstall, or copy the repository's hocon/ there).", file);
    }

    /// <summary>
    /// The actor system's name, derived from GROUP_ID: <c>lsmraft-&lt;group id&gt;</c> (a group id's dots, which Akka does
    /// not allow in a name, become dashes, and then a hash of the group id follows so that names stay distinct). Akka drops
    /// every message addressed to another system name, so nodes of another group never join this cluster even when they
    /// share a cluster secret.
    /// </summary>
    public static string SystemName(string groupId)
    {
        string name = "lsmraft-" + groupId.Replace('.', '-');
        return groupId.Contains('.')
            ? $"{name}-{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(groupId)))[..16]}"
            : name;
    }

    /// <summary>
    /// The host other nodes reach this node's Akka endpoint at (its Akka address): its PEERS host as dialled (after
    /// LSMRAFT_HOSTS), else the bind address, else this machine's name. Akka drops messages addressed to any other
    /// name for this node, so it must be what the others dial.
    /// </summary>
    public static string PublicHost(NodeConfig config)
    {
        if (config.Peers.FirstOrDefault(p => p.Id == config.PeerId) is { } self)
            return config.DialHost(self.Host);
        return config.BindAddress is "0.0.0.0" or "::" ? System.Net.Dns.GetHostName() : config.BindAddress;
    }

    /// <summary>The node settings that override HOCON, as HOCON.</summary>
    public static string Overrides(NodeConfig config, bool debugLog)
    {
        var hocon = new StringBuilder();
        hocon.AppendLine(CultureInfo.InvariantCulture, $"akka.remote.dot-netty.tcp.hostname = {Quote(config.BindAddress)}");
        hocon.AppendLine(CultureInfo.InvariantCulture, $"akka.remote.dot-netty.tcp.public-hostname = {Quote(PublicHost(config))}");
        hocon.AppendLine(CultureInfo.InvariantCulture, $"akka.remote.dot-netty.tcp.port = {config.EffectiveAkkaPort}");
        // The role naming the node maps members to node ids (ClusterMembership).
        hocon.AppendLine(CultureInfo.InvariantCulture, $"akka.cluster.roles = [{ClusterMembership.ReplicaRole}, \"{ClusterMembership.NodeRole(config.PeerId)}\"]");
        if (config.CompactionParallelism is { } parallelism)
            hocon.AppendLine(CultureInfo.InvariantCulture, $"{BackgroundSettings.ConfigPath}.compaction-parallelism = {parallelism}");
        if (config.CompactionBytesPerSecond is { } rate)
            hocon.AppendLine(CultureInfo.InvariantCulture, $"{BackgroundSettings.ConfigPath}.compaction-bytes-per-second = {rate}");
        if (config.AkkaHocon is { Length: > 0 } extra)
            hocon.AppendLine(extra);
        if (debugLog)
            hocon.AppendLine("akka.loglevel = DEBUG");
        return hocon.ToString();
    }

    private static string Quote(string text) => "\"" + text.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
}
