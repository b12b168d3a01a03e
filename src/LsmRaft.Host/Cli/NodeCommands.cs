using System.CommandLine;
using System.Text.Json;
using LsmRaft.Host.Config;

namespace LsmRaft.Host.Cli;

/// <summary><c>lsmraft start</c> (one node) and <c>lsmraft demo</c> (a local cluster).</summary>
internal static class NodeCommands
{
    private const string NoRuntime = "lsmraft: the node runtime is not available in this build; 'start' and 'demo' need it.";

    public static Command Start(CliContext context)
    {
        var command = new Command("start", "Run one node. Settings: defaults < --config file < environment (PEER_ID, PORT, ...) < flags; see docs/configuration.md.");
        var configFile = new Option<string?>("--config") { Description = $"JSON settings file (default: ${ConfigLoader.ConfigFileEnv}, else none; config/lsmraft.json shows every setting)" };
        var dryRun = new Option<bool>("--dry-run") { Description = "Validate the settings, print them as JSON and exit" };
        command.Options.Add(configFile);
        command.Options.Add(dryRun);
        var settingOptions = new List<(SettingSpec Spec, Option Option)>();
        foreach (var spec in ConfigLoader.Settings)
        {
            Option option = spec.IsSwitch
                ? new Option<bool>(spec.Flag) { Description = $"{spec.Accepted} (env {spec.Env})" }
                : new Option<string?>(spec.Flag) { Description = $"{spec.Accepted} (env {spec.Env})" };
            command.Options.Add(option);
            settingOptions.Add((spec, option));
        }

        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var flags = new Dictionary<string, string>();
            foreach (var (spec, option) in settingOptions)
            {
                if (option is Option<bool> flag)
                {
                    if (parseResult.GetResult(flag) is { Implicit: false })
                        flags[spec.Name] = parseResult.GetValue(flag) ? "true" : "false";
                }
                else if (parseResult.GetValue((Option<string?>)option) is { } value)
                {
                    flags[spec.Name] = value;
                }
            }
            var result = ConfigLoader.Load(new ConfigSources(parseResult.GetValue(configFile), context.Environment, flags, context.InContainer));
            if (!result.IsValid)
            {
                await context.Error.WriteLineAsync($"lsmraft: invalid configuration ({result.Errors.Count} problem{(result.Errors.Count == 1 ? "" : "s")}):");
                foreach (var error in result.Errors)
                    await context.Error.WriteLineAsync($"  - {error}");
                return ExitCodes.BadInput;
            }
            var config = result.Config!;
            if (parseResult.GetValue(dryRun))
            {
                await context.Out.WriteLineAsync(Describe(config));
                return ExitCodes.Ok;
            }
            if (context.NodeRunner is null)
            {
                await context.Error.WriteLineAsync(NoRuntime);
                return ExitCodes.Unavailable;
            }
            return await context.NodeRunner.RunAsync(config, cancellationToken);
        });
        return command;
    }

    public static Command Demo(CliContext context)
    {
        var command = new Command("demo", "Run a local cluster on 127.0.0.1 in this process and print its endpoints.");
        var nodes = new Option<int>("--nodes") { Description = "Number of nodes (1-9)", DefaultValueFactory = _ => DemoOptions.DefaultNodes };
        var dataDir = new Option<string>("--data-dir") { Description = "Data directory (node i uses <dir>/node<i>)", DefaultValueFactory = _ => "./data" };
        var basePort = new Option<int>("--base-port") { Description = "Peer port of node 1; node i uses base+2(i-1) (peer) and one above (HTTP)", DefaultValueFactory = _ => DemoOptions.DefaultBasePort };
        command.Options.Add(nodes);
        command.Options.Add(dataDir);
        command.Options.Add(basePort);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var options = DemoOptions.Create(parseResult.GetValue(nodes), parseResult.GetValue(dataDir)!, parseResult.GetValue(basePort));
            var (_, errors) = options.BuildNodeConfigs();
            if (errors.Count > 0)
            {
                await context.Error.WriteLineAsync("lsmraft: invalid demo options:");
                foreach (var error in errors)
                    await context.Error.WriteLineAsync($"  - {error}");
                return ExitCodes.BadInput;
            }
            if (context.NodeRunner is null)
            {
                await context.Error.WriteLineAsync(NoRuntime);
                return ExitCodes.Unavailable;
            }
            return await context.NodeRunner.RunDemoAsync(options, cancellationToken);
        });
        return command;
    }

    /// <summary>The effective settings as JSON, secrets masked.</summary>
    internal static string Describe(NodeConfig config)
    {
        var shown = config with
        {
            ClusterSecret = config.ClusterSecret is null ? null : "(set)",
            AdminToken = config.AdminToken is null ? null : "(set)",
        };
        return JsonSerializer.Serialize(new
        {
            PeerId = shown.NodeName, NodeId = shown.PeerId, shown.Port, shown.HttpPort, shown.GroupId,
            Peers = shown.Peers.Select(p => p.ToString()).ToList(), shown.Hosts,
            shown.DataDir, shown.FlushThresholdBytes, shown.BloomFpp, shown.BloomHashFuncs, shown.Shards,
            shown.ReplicationFactor, shown.EffectiveReplicationFactor, shown.ClusterSecret, shown.InsecureDev, shown.Join,
            shown.MaxInFlightRequests, shown.MaxKeyBytes, shown.MaxValueBytes, shown.MaxBodyBytes,
            DownReplicaTimeout = shown.DownReplicaTimeout.ToString(), shown.BindAddress,
            RequestTimeout = shown.RequestTimeout.ToString(), shown.RetryAfterSeconds, shown.AdminToken,
            ShutdownTimeout = shown.ShutdownTimeout.ToString(), DataPlane = shown.DataPlane.ToString().ToLowerInvariant(),
        }, new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true });
    }
}
