using System.CommandLine;
using System.Globalization;
using LsmRaft.Protocol.Cluster;
using Spectre.Console;

namespace LsmRaft.Host.Cli;

/// <summary><c>lsmraft cluster show|tail</c>, <c>lsmraft shards list|split|move</c>, <c>lsmraft leader transfer</c>.</summary>
internal static class ClusterCommands
{
    public static Command Cluster(CliContext context)
    {
        var shared = new ClientCommandOptions();
        var cluster = new Command("cluster", "Inspect the cluster.");
        shared.AddTo(cluster);
        var show = new Command("show", "Print nodes (state, replicas, leaders) and shards (range, epoch, replicas, leader).");
        ClientCommandOptions.SetAction(show, context, async (parseResult, cancellationToken) =>
        {
            using var client = shared.CreateClient(parseResult, context);
            var view = await client.GetClusterAsync(cancellationToken);
            var console = context.CreateConsole();
            console.WriteLine($"Cluster '{view.ClusterId}', shard map version {view.MapVersion}: {view.Nodes.Count} node(s), {view.Shards.Count} shard(s)");
            console.Write(NodeTable(view));
            console.Write(ShardTable(view));
            return ExitCodes.Ok;
        });
        cluster.Subcommands.Add(show);
        cluster.Subcommands.Add(ClusterTailCommand.Create(shared, context));
        return cluster;
    }

    public static Command Shards(CliContext context)
    {
        var shared = new ClientCommandOptions();
        var shards = new Command("shards", "List and change shards.");
        shared.AddTo(shards);

        var list = new Command("list", "Print the shard map.");
        ClientCommandOptions.SetAction(list, context, async (parseResult, cancellationToken) =>
        {
            using var client = shared.CreateClient(parseResult, context);
            context.CreateConsole().Write(ShardTable(await client.GetClusterAsync(cancellationToken)));
            return ExitCodes.Ok;
        });
        shards.Subcommands.Add(list);

        var splitId = ShardArgument();
        var split = new Command("split", "Split a shard's hash range in two.") { splitId };
        ClientCommandOptions.SetAction(split, context, async (parseResult, cancellationToken) =>
        {
            using var client = shared.CreateClient(parseResult, context);
            ulong id = parseResult.GetValue(splitId);
            var view = await client.SplitShardAsync(id, cancellationToken);
            var console = context.CreateConsole();
            console.WriteLine($"Shard {id} split; the map (version {view.MapVersion}) has {view.Shards.Count} shards.");
            console.Write(ShardTable(view));
            return ExitCodes.Ok;
        });
        shards.Subcommands.Add(split);

        var moveId = ShardArgument();
        var from = new Option<ulong>("--from") { Description = "Node that holds the replica now", Required = true };
        var to = new Option<ulong>("--to") { Description = "Node to move it to", Required = true };
        var move = new Command("move", "Move a shard's replica from one node to another.") { moveId, from, to };
        ClientCommandOptions.SetAction(move, context, async (parseResult, cancellationToken) =>
        {
            using var client = shared.CreateClient(parseResult, context);
            ulong id = parseResult.GetValue(moveId);
            var view = await client.MoveReplicaAsync(id, parseResult.GetValue(from), parseResult.GetValue(to), cancellationToken);
            var console = context.CreateConsole();
            console.WriteLine($"Moving shard {id}'s replica from node {parseResult.GetValue(from)} to node {parseResult.GetValue(to)}.");
            console.Write(ShardTable(view));
            return ExitCodes.Ok;
        });
        shards.Subcommands.Add(move);
        return shards;
    }

    public static Command Leader(CliContext context)
    {
        var shared = new ClientCommandOptions();
        var leader = new Command("leader", "Change shard leadership.");
        shared.AddTo(leader);
        var shardId = ShardArgument();
        var to = new Option<ulong>("--to") { Description = "Node whose replica becomes leader", Required = true };
        var transfer = new Command("transfer", "Make a shard's replica on another node its leader.") { shardId, to };
        ClientCommandOptions.SetAction(transfer, context, async (parseResult, cancellationToken) =>
        {
            using var client = shared.CreateClient(parseResult, context);
            ulong id = parseResult.GetValue(shardId);
            var view = await client.TransferLeaderAsync(id, parseResult.GetValue(to), cancellationToken);
            var console = context.CreateConsole();
            console.WriteLine($"Leadership of shard {id} transferred to node {parseResult.GetValue(to)}.");
            console.Write(ShardTable(view));
            return ExitCodes.Ok;
        });
        leader.Subcommands.Add(transfer);
        return leader;
    }

    private static Argument<ulong> ShardArgument() => new("shard-id") { Description = "The shard's id (see 'lsmraft shards list')" };

    internal static Table NodeTable(ClusterView view)
    {
        var table = new Table().Title("Nodes");
        table.AddColumns("Node", "Peer address", "HTTP address", "State", "Last heartbeat", "Replicas", "Leads");
        foreach (var node in view.Nodes.OrderBy(n => n.Id))
        {
            int replicas = view.Shards.Count(s => s.Replicas.Contains(node.Id));
            int leads = view.Shards.Count(s => s.Leader == node.Id);
            table.AddRow(
                Markup.Escape(node.Id.ToString(CultureInfo.InvariantCulture)),
                Markup.Escape(node.PeerAddress),
                Markup.Escape(node.HttpAddress),
                node.State.ToString(),
                node.LastHeartbeat?.ToString("u", CultureInfo.InvariantCulture) ?? "-",
                replicas.ToString(CultureInfo.InvariantCulture),
                leads.ToString(CultureInfo.InvariantCulture));
        }
        return table;
    }

    internal static Table ShardTable(ClusterView view)
    {
        var table = new Table().Title("Shards");
        table.AddColumns("Shard", "Hash range", "Epoch", "Replicas", "Learners", "Leader");
        foreach (var shard in view.Shards.OrderBy(s => s.RangeStart))
        {
            table.AddRow(
                shard.Id.ToString(CultureInfo.InvariantCulture),
                $"{shard.RangeStart:x16}-{shard.RangeEnd:x16}",
                shard.Epoch.ToString(CultureInfo.InvariantCulture),
                Join(shard.Replicas),
                Join(shard.Learners),
                shard.Leader?.ToString(CultureInfo.InvariantCulture) ?? "none");
        }
        return table;
    }

    private static string Join(IReadOnlyList<ulong> ids) => ids.Count == 0 ? "-" : string.Join(",", ids);
}
