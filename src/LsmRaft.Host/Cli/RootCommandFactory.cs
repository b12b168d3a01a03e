using System.CommandLine;

namespace LsmRaft.Host.Cli;

/// <summary>
/// The <c>lsmraft</c> command line: <c>start</c>, <c>demo</c>, <c>ready</c>, <c>kv</c>, <c>cluster</c>, <c>shards</c>, <c>leader</c>.
/// Exit codes are <see cref="ExitCodes"/>; parse errors (unknown flags, missing arguments) exit with 2.
/// </summary>
internal static class RootCommandFactory
{
    /// <summary>The process entry point; <paramref name="nodeRunner"/> serves <c>start</c> and <c>demo</c>.</summary>
    public static int Run(string[] args, INodeRunner? nodeRunner = null) =>
        InvokeAsync(args, CliContext.ForProcess(nodeRunner), CancellationToken.None).GetAwaiter().GetResult();

    public static RootCommand Create(CliContext context)
    {
        var root = new RootCommand("LsmRaft: a distributed, replicated, sharded key-value store. Docs: docs/api.md, docs/configuration.md.");
        root.Subcommands.Add(NodeCommands.Start(context));
        root.Subcommands.Add(NodeCommands.Demo(context));
        root.Subcommands.Add(ReadyCommand.Create(context));
        root.Subcommands.Add(KvCommands.Create(context));
        root.Subcommands.Add(ClusterCommands.Cluster(context));
        root.Subcommands.Add(ClusterCommands.Shards(context));
        root.Subcommands.Add(ClusterCommands.Leader(context));
        return root;
    }

    public static async Task<int> InvokeAsync(string[] args, CliContext context, CancellationToken cancellationToken)
    {
        var parseResult = Create(context).Parse(args);
        if (parseResult.Errors.Count > 0)
        {
            foreach (var error in parseResult.Errors)
                await context.Error.WriteLineAsync($"lsmraft: {error.Message}");
            await context.Error.WriteLineAsync("Run 'lsmraft --help' (or 'lsmraft <command> --help') for usage.");
            return ExitCodes.BadInput;
        }
        var invocation = new InvocationConfiguration
        {
            Output = context.Out,
            Error = context.Error,
            // A node's graceful shutdown (leadership transfer, flush) is bounded by its ShutdownTimeout setting, whose
            // maximum is 10 minutes; the parser must not kill the process before that.
            ProcessTerminationTimeout = TimeSpan.FromMinutes(11),
        };
        return await parseResult.InvokeAsync(invocation, cancellationToken);
    }
}
