using System.CommandLine;
using LsmRaft.Client;
using LsmRaft.Protocol.Cluster;

namespace LsmRaft.Host.Cli;

/// <summary><c>lsmraft cluster leave|down|join</c>: pbm's membership verbs over the admin API (<c>/v1/admin/nodes</c>).</summary>
internal static class MembershipCommands
{
    /// <summary>Default bound on how long <c>cluster leave</c> waits for the drain to finish.</summary>
    public const double DefaultLeaveWaitSeconds = 600;

    public static void AddTo(Command cluster, CliContext context, ClientCommandOptions shared)
    {
        cluster.Subcommands.Add(Leave(context, shared));
        cluster.Subcommands.Add(Down(context, shared));
        cluster.Subcommands.Add(Join(context, shared));
    }

    private static Argument<ulong> NodeArgument() => new("node-id") { Description = "The node's id (see 'lsmraft cluster show')" };

    private static Command Leave(CliContext context, ClientCommandOptions shared)
    {
        var node = NodeArgument();
        var wait = new Option<double>("--wait") { Description = "Seconds to wait for the drain to finish (0: start it and return)", DefaultValueFactory = _ => DefaultLeaveWaitSeconds };
        var json = ClusterCommands.JsonOption();
        var command = new Command("leave", "Drain a node gracefully (move its replicas away, hand its leaderships over), then remove it; progress on stderr until done.") { node, wait, json };
        ClientCommandOptions.SetAction(command, context, async (parseResult, cancellationToken) =>
        {
            ulong id = parseResult.GetValue(node);
            double seconds = parseResult.GetValue(wait);
            if (!(seconds >= 0 && seconds <= 86400))
                throw new CliUsageException($"--wait is {seconds}: expected seconds in [0, 86400].");
            using var client = shared.CreateClient(parseResult, context);
            var progress = await client.DrainNodeAsync(id, cancellationToken);
            string? last = null;
            var deadline = DateTimeOffset.UtcNow.AddSeconds(seconds);
            while (!progress.Done && DateTimeOffset.UtcNow < deadline)
            {
                string line = Describe(progress);
                if (line != last)
                    await context.Error.WriteLineAsync($"lsmraft: {line}");
                last = line;
                await Task.Delay(Progress.Interval, cancellationToken);
                try
                {
                    progress = await client.GetDrainAsync(id, cancellationToken);
                }
                catch (LsmRaftUnavailableException e)
                {
                    await context.Error.WriteLineAsync($"lsmraft: could not read the drain's progress ({e.Message}); retrying.");
                }
            }
            if (parseResult.GetValue(json))
                await context.Out.WriteLineAsync(StatusTables.ToJson(progress));
            else if (progress.Done)
                await context.Out.WriteLineAsync($"Node {id} left the cluster: it holds no replica and is removed.{MetaNote(progress)}");
            else
                await context.Out.WriteLineAsync($"Node {id} is leaving: {Describe(progress)}");
            if (progress.Done || seconds == 0)
                return ExitCodes.Ok;
            await context.Error.WriteLineAsync($"lsmraft: node {id} did not finish leaving within {seconds:0} s; the drain continues in the cluster ('lsmraft cluster leave {id}' again follows it).");
            return ExitCodes.Timeout;
        });
        return command;
    }

    private static Command Down(CliContext context, ClientCommandOptions shared)
    {
        var node = NodeArgument();
        var force = new Option<bool>("--force") { Description = "Mark the node removed even though it is up (its replicas are re-created elsewhere)" };
        var json = ClusterCommands.JsonOption();
        var command = new Command("down", "Mark an unreachable node removed now; its replicas are re-created on other nodes.") { node, force, json };
        ClientCommandOptions.SetAction(command, context, async (parseResult, cancellationToken) =>
        {
            ulong id = parseResult.GetValue(node);
            using var client = shared.CreateClient(parseResult, context);
            var view = await client.DownNodeAsync(id, parseResult.GetValue(force), cancellationToken);
            if (parseResult.GetValue(json))
            {
                await context.Out.WriteLineAsync(StatusTables.ToJson(view));
                return ExitCodes.Ok;
            }
            int replicas = view.Shards.Count(s => s.Replicas.Contains(id) || s.Learners.Contains(id));
            await context.Out.WriteLineAsync($"Node {id} is marked removed; {replicas} replica(s) still on it are being re-created on other nodes.");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Join(CliContext context, ClientCommandOptions shared)
    {
        var address = new Argument<string>("address") { Description = "The node's peer address, host:port (its PORT)" };
        var json = ClusterCommands.JsonOption();
        var command = new Command("join",
            "Admit the node at a peer address: clears a drain or removal. A new node joins by starting with 'lsmraft start --join <member host:port>'.") { address, json };
        ClientCommandOptions.SetAction(command, context, async (parseResult, cancellationToken) =>
        {
            string peer = parseResult.GetValue(address)!;
            using var client = shared.CreateClient(parseResult, context);
            var view = await client.JoinNodeAsync(peer, cancellationToken);
            if (parseResult.GetValue(json))
            {
                await context.Out.WriteLineAsync(StatusTables.ToJson(view));
                return ExitCodes.Ok;
            }
            var node = view.Nodes.FirstOrDefault(n => n.PeerAddress.Equals(peer, StringComparison.OrdinalIgnoreCase));
            await context.Out.WriteLineAsync(node is null ? $"The node at {peer} is admitted." : $"Node {node.Id} at {node.PeerAddress} is a member ({StatusTables.StateName(node.State)}).");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static string Describe(DrainProgress progress)
    {
        string state = StatusTables.StateName(progress.State);
        string shards = progress.ShardsLeft.Count == 0 ? "no replica" : $"{progress.ShardsLeft.Count} replica(s) (shards {StatusTables.Join(progress.ShardsLeft)})";
        string blocked = progress.Blocked is null ? "" : $"; blocked: {progress.Blocked}";
        return $"node {progress.Node} {state}: {shards} and {progress.LeadershipsLeft} leadership(s) left{blocked}";
    }

    private static string MetaNote(DrainProgress progress) => progress.MetaVoter
        ? " It keeps its vote in the meta group (the meta group's voters are fixed when the cluster is created): stopping it leaves the meta group one voter short."
        : "";
}
