using System.Globalization;
using System.Text;
using LsmRaft.Actors.Background;
using LsmRaft.Host.Config;

namespace LsmRaft.Host.Node;

/// <summary>
/// Where a node's Akka configuration comes from: <c>hocon/lsmraft.conf</c> beside the binary, then the node's
/// settings (JSON file, environment, flags) rendered as HOCON in front of it, so they win (docs/configuration.md).
/// </summary>
internal static class AkkaConfig
{
    /// <summary>The name of every node's actor system (one per node; several may share a process in tests and the demo).</summary>
    public const string SystemName = "lsmraft";

    /// <summary>The HOCON file every node loads, as the build copies it next to the binary.</summary>
    public static string MainFile => Path.Combine(AppContext.BaseDirectory, "hocon", "lsmraft.conf");

    /// <summary>Throws naming the missing file and how to restore it; checked before any actor system starts.</summary>
    public static void RequireFiles()
    {
        if (!File.Exists(MainFile))
            throw new FileNotFoundException($"The Akka configuration '{MainFile}' is missing: it ships in the hocon/ folder beside the lsmraft binary (rebuild or reinstall, or copy the repository's hocon/ there).", MainFile);
    }

    /// <summary>The node settings that override HOCON, as HOCON (empty when none is set).</summary>
    public static string Overrides(NodeConfig config, bool debugLog)
    {
        var hocon = new StringBuilder();
        if (config.CompactionParallelism is { } parallelism)
            hocon.AppendLine(CultureInfo.InvariantCulture, $"{BackgroundSettings.ConfigPath}.compaction-parallelism = {parallelism}");
        if (config.CompactionBytesPerSecond is { } rate)
            hocon.AppendLine(CultureInfo.InvariantCulture, $"{BackgroundSettings.ConfigPath}.compaction-bytes-per-second = {rate}");
        if (debugLog)
            hocon.AppendLine("akka.loglevel = DEBUG");
        return hocon.ToString();
    }
}
