using System.Globalization;
using System.Text.Json;
using LsmRaft.Client.Wire;
using LsmRaft.Protocol.Cluster;
using Spectre.Console;

namespace LsmRaft.Host.Cli;

/// <summary>How the cluster commands print: Spectre tables for people, indented API JSON (<c>--json</c>) for scripts.</summary>
internal static class StatusTables
{
    /// <summary>The API's JSON shapes (camelCase, enums as camelCase strings), indented.</summary>
    public static readonly JsonSerializerOptions Json = new(WireJson.Lenient) { WriteIndented = true };

    public static string ToJson<T>(T value) => JsonSerializer.Serialize(value, Json);

    public static Table Nodes(ClusterStatus status)
    {
        var table = new Table().Title("Nodes");
        table.AddColumns("Node", "Peer address", "HTTP address", "State", "Replicas", "Leads", "Meta", "Uptime", "Version", "Last heartbeat");
        foreach (var node in status.Nodes)
        {
            table.AddRow(
                Number(node.Id),
                Markup.Escape(node.PeerAddress),
                Markup.Escape(node.HttpAddress),
                StateName(node.State),
                Number(node.Replicas),
                Number(node.Leads),
                node.MetaLeader ? "leader" : node.MetaVoter ? "voter" : "-",
                node.UptimeSeconds is { } up ? Duration(up) : "-",
                Markup.Escape(ShortVersion(node.Version)),
                node.LastHeartbeat?.ToString("u", CultureInfo.InvariantCulture) ?? "-");
        }
        return table;
    }

    public static Table Shards(IEnumerable<ShardStats> shards)
    {
        var table = new Table().Title("Shards");
        table.AddColumns("Shard", "Hash range", "Epoch", "Leader", "Replicas", "Learners", "Term", "Commit", "Applied", "Lag", "Size");
        foreach (var shard in shards)
        {
            table.AddRow(
                Number(shard.Id),
                Range(shard.RangeStart, shard.RangeEnd),
                Number(shard.Epoch),
                shard.Leader is { } leader ? Number(leader) : "none",
                Join(shard.Replicas),
                Join(shard.Learners),
                Optional(shard.Term),
                Optional(shard.Commit),
                Optional(shard.Applied),
                Optional(shard.Lag),
                shard.SizeBytes is { } size ? Bytes(size) : "-");
        }
        return table;
    }

    public static Table Replicas(ShardStats shard)
    {
        var table = new Table().Title($"Replicas of shard {shard.Id}");
        table.AddColumns("Node", "Role", "Term", "Commit", "Applied", "Lag", "Size");
        foreach (var replica in shard.ReplicaStats)
        {
            table.AddRow(Number(replica.Node), replica.Role, Optional(replica.Term), Optional(replica.Commit), Optional(replica.Applied),
                Optional(replica.Lag), replica.SizeBytes is { } size ? Bytes(size) : "-");
        }
        return table;
    }

    /// <summary>The state as the pbm verbs name it: up, down, leaving (draining), removed.</summary>
    public static string StateName(NodeState state) => state switch
    {
        NodeState.Up => "up",
        NodeState.Down => "down",
        NodeState.Draining => "leaving",
        NodeState.Removed => "removed",
        _ => state.ToString(),
    };

    /// <summary>"1.0.0+d4801f8bd6ca…" (version and full commit) as "1.0.0+d4801f8b"; the JSON keeps the whole string.</summary>
    public static string ShortVersion(string? version)
    {
        if (version is null)
            return "-";
        int plus = version.IndexOf('+');
        return plus >= 0 && version.Length > plus + 9 ? version[..(plus + 9)] : version;
    }

    public static string Range(ulong start, ulong end) => $"{start:x16}-{end:x16}";

    /// <summary>Whole seconds as "3d 04:05:06", "04:05:06" under a day.</summary>
    public static string Duration(double seconds)
    {
        var span = TimeSpan.FromSeconds(Math.Max(0, Math.Floor(seconds)));
        string clock = $"{span.Hours:00}:{span.Minutes:00}:{span.Seconds:00}";
        return span.Days > 0 ? $"{span.Days}d {clock}" : clock;
    }

    /// <summary>Bytes in binary units: "512 B", "1.5 KiB", "3.2 MiB".</summary>
    public static string Bytes(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double value = bytes;
        int unit = 0;
        while (value >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }
        return unit == 0 ? $"{bytes} B" : string.Create(CultureInfo.InvariantCulture, $"{value:0.#} {units[unit]}");
    }

    public static string Join(IReadOnlyList<ulong> ids) => ids.Count == 0 ? "-" : string.Join(",", ids);

    private static string Number(ulong value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Optional(ulong? value) => value is { } v ? Number(v) : "-";
}
