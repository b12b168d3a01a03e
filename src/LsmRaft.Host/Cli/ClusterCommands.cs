using System.CommandLine;
using System.Globalization;
using LsmRaft.Client;
using LsmRaft.Protocol.Cluster;
using Spectre.Console;

namespace LsmRaft.Host.Cli;

/// <summary>
/// <c>lsmraft cluster show|tail|leave|down|join</c> (see <see cref="ClusterTailCommand"/>, <see cref="MembershipCommands"/>),
/// <c>lsmraft shards list|stats|show|split|move</c>, <c>lsmraft leader transfer</c>.
/// </summary>
internal static class ClusterCommands
{
    public static Command Cluster(CliContext context)
    {
        var shared = new ClientCommandOptions();
        var cluster = new Command("cluster", "Inspect and change the cluster's membership (pbm-style verbs).");
        shared.AddTo(cluster);
        var json = JsonOption();
        var show = new Command("show", "Print the nodes (state, addresses, replicas, leaderships, uptime, version) and the shards.") { json };
        ClientCommandOptions.SetAction(show, context, async (parseResult, cancellationToken) =>
        {
            using var client = shared.CreateClient(parseResult, context);
            var status = await client.GetClusterStatusAsync(cancellationToken);
            if (parseResult.GetValue(json))
            {
                await context.Out.WriteLineAsync(StatusTables.ToJson(status));
                return ExitCodes.Ok;
            }
            var console = context.CreateConsole();
            console.WriteLine($"Cluster '{status.ClusterId}', shard map version {status.MapVersion}: {status.Nodes.Count} node(s), {status.Shards.Count} shard(s)");
            console.Write(StatusTables.Nodes(status));
            console.Write(StatusTables.Shards(status.Shards));
            foreach (var node in status.Nodes.Where(n => n.ReportError is not null))
                console.WriteLine($"Node {node.Id} did not report: {node.ReportError}");
            return ExitCodes.Ok;
        });
        cluster.Subcommands.Add(show);
        cluster.Subcommands.Add(ClusterTailCommand.Create(shared, context));
        MembershipCommands.AddTo(cluster, context, shared);
        return cluster;
    }

    public static Command Shards(CliContext context)
    {
        var shared = new ClientCommandOptions();
        var shards = new Command("shards", "List, inspect and change shards.");
        shared.AddTo(shards);

        var list = new Command("list", "Print the shard map.");
        ClientCommandOptions.SetAction(list, context, async (parseResult, cancellationToken) =>
        {
            using var client = shared.CreateClient(parseResult, context);
            context.CreateConsole().Write(ShardTable(await client.GetClusterAsync(cancellationToken)));
            return ExitCodes.Ok;
        });
        shards.Subcommands.Add(list);

        var statsJson = JsonOption();
        var stats = new Command("stats", "Print every shard: range, epoch, leader, replicas, term, commit/applied index, lag, size.") { statsJson };
        ClientCommandOptions.SetAction(stats, context, async (parseResult, cancellationToken) =>
        {
            using var client = shared.CreateClient(parseResult, context);
            var status = await client.GetClusterStatusAsync(cancellationToken);
            if (parseResult.GetValue(statsJson))
                await context.Out.WriteLineAsync(StatusTables.ToJson(new { status.ClusterId, status.MapVersion, status.At, status.Shards }));
            else
                context.CreateConsole().Write(StatusTables.Shards(status.Shards));
            return ExitCodes.Ok;
        });
        shards.Subcommands.Add(stats);

        var showId = ShardArgument();
        var showJson = JsonOption();
        var show = new Command("show", "Print one shard in detail, with each replica's role, term, commit/applied index, lag and size.") { showId, showJson };
        ClientCommandOptions.SetAction(show, context, async (parseResult, cancellationToken) =>
        {
            using var client = shared.CreateClient(parseResult, context);
            ulong id = parseResult.GetValue(showId);
            var status = await client.GetClusterStatusAsync(cancellationToken);
            if (status.Shards.FirstOrDefault(s => s.Id == id) is not { } shard)
            {
                await context.Error.WriteLineAsync($"lsmraft: shard {id} does not exist (shards: {StatusTables.Join(status.Shards.Select(s => s.Id).Order().ToList())}).");
                return ExitCodes.NotFound;
            }
            if (parseResult.GetValue(showJson))
            {
                await context.Out.WriteLineAsync(StatusTables.ToJson(shard));
                return ExitCodes.Ok;
            }
            var console = context.CreateConsole();
            console.WriteLine($"Shard {shard.Id}: hash range {StatusTables.Range(shard.RangeStart, shard.RangeEnd)}, epoch {shard.Epoch}, " +
                $"leader {(shard.Leader is { } leader ? $"node {leader}" : "none")}, size {(shard.SizeBytes is { } size ? StatusTables.Bytes(size) : "unknown")}");
            console.Write(StatusTables.Replicas(shard));
            return ExitCodes.Ok;
        });
        shards.Subcommands.Add(show);

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
        var from = NodeOption("--from", "Node that holds the replica now");
        var to = NodeOption("--to", "Node to move it to");
        var move = new Command("move", "Move a shard's replica from one node to another; progress on stderr until done.") { moveId, from, to };
        ClientCommandOptions.SetAction(move, context, async (parseResult, cancellationToken) =>
        {
            ulong id = parseResult.GetValue(moveId), source = parseResult.GetValue(from), target = parseResult.GetValue(to);
            // A move waits for the new replica to catch up (snapshot and log): the request's deadline is the move's (5 minutes at most).
            using var client = shared.CreateClient(parseResult, context, minimumTimeout: TimeSpan.FromMinutes(5));
            using var observer = shared.CreateClient(parseResult, context);
            var moving = client.MoveReplicaAsync(id, source, target, cancellationToken);
            await Progress.ReportWhileAsync(moving, context.Error, token => DescribeMoveAsync(observer, id, target, token), cancellationToken);
            var view = await moving;
            var console = context.CreateConsole();
            console.WriteLine($"Moved shard {id}'s replica from node {NameOf(view, parseResult.GetValue(from))} to node {NameOf(view, parseResult.GetValue(to))}.");
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
        var to = NodeOption("--to", "Node whose replica becomes leader");
        var transfer = new Command("transfer", "Make a shard's replica on another node its leader.") { shardId, to };
        ClientCommandOptions.SetAction(transfer, context, async (parseResult, cancellationToken) =>
        {
            using var client = shared.CreateClient(parseResult, context);
            ulong id = parseResult.GetValue(shardId);
            var view = await client.TransferLeaderAsync(id, parseResult.GetValue(to), cancellationToken);
            var console = context.CreateConsole();
            console.WriteLine($"Leadership of shard {id} transferred to node {NameOf(view, parseResult.GetValue(to))}.");
            console.Write(ShardTable(view));
            return ExitCodes.Ok;
        });
        leader.Subcommands.Add(transfer);
        return leader;
    }

    /// <summary>A required node option that takes an integer id or a name (<c>--to n2</c>), as PEER_ID does.</summary>
    private static Option<ulong> NodeOption(string name, string description) => new(name)
    {
        Description = $"{description}: its id or name, e.g. 2 or n2",
        Required = true,
        CustomParser = result =>
        {
            string text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
            if (NodeIds.TryParse(text, out ulong id))
                return id;
            result.AddError($"{name} is '{text}': expected {NodeIds.Accepted}.");
            return 0;
        },
    };

    /// <summary>A node's name as the view gives it, or its id when the view does not list it.</summary>
    private static string NameOf(ClusterView view, ulong id) =>
        view.Nodes.FirstOrDefault(n => n.Id == id)?.DisplayName ?? id.ToString(CultureInfo.InvariantCulture);

    internal static Option<bool> JsonOption() => new("--json") { Description = "Print the API's JSON (documented in docs/api.md) instead of tables" };

    private static Argument<ulong> ShardArgument() => new("shard-id") { Description = "The shard's id (see 'lsmraft shards list')" };

    /// <summary>One progress line of a move: where the target replica stands against the shard's leader.</summary>
    private static async Task<string?> DescribeMoveAsync(LsmRaftClient observer, ulong shardId, ulong target, CancellationToken cancellationToken)
    {
        var status = await observer.GetClusterStatusAsync(cancellationToken);
        if (status.Shards.FirstOrDefault(s => s.Id == shardId) is not { } shard)
            return null;
        var replica = shard.ReplicaStats.FirstOrDefault(r => r.Node == target);
        string where = replica is null ? "not added yet"
            : replica.Applied is { } applied ? $"{replica.Role}, applied {applied} of the leader's commit {shard.Commit?.ToString(CultureInfo.InvariantCulture) ?? "?"}"
            : replica.Role;
        return $"shard {shardId}: node {target} {where}; replicas {StatusTables.Join(shard.Replicas)}, learners {StatusTables.Join(shard.Learners)}";
    }

    internal static Table ShardTable(ClusterView view)
    {
        var table = new Table().Title("Shards");
        table.AddColumns("Shard", "Hash range", "Epoch", "Replicas", "Learners", "Leader");
        foreach (var shard in view.Shards.OrderBy(s => s.RangeStart))
        {
            table.AddRow(
                shard.Id.ToString(CultureInfo.InvariantCulture),
                StatusTables.Range(shard.RangeStart, shard.RangeEnd),
                shard.Epoch.ToString(CultureInfo.InvariantCulture),
                Join(view, shard.Replicas),
                Join(view, shard.Learners),
                shard.Leader is { } leader ? Markup.Escape(NameOf(view, leader)) : "none");
        }
        return table;
    }

    private static string Join(ClusterView view, IReadOnlyList<ulong> ids) =>
        ids.Count == 0 ? "-" : Markup.Escape(string.Join(",", ids.Select(id => NameOf(view, id))));
}
