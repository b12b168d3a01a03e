using System.Net;
using LsmRaft.Actors.Replica;
using LsmRaft.Host.Api;
using LsmRaft.Host.Api.Listening;
using LsmRaft.Host.Cli;
using LsmRaft.Host.Config;
using LsmRaft.Host.Metrics;
using LsmRaft.Host.Peer;
using Akka.Hosting;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting.Server;

namespace LsmRaft.Host.Node;

/// <summary>
/// Hosts nodes for <c>lsmraft start</c> and <c>lsmraft demo</c>: Kestrel serves the peer protocol on
/// <c>PORT</c> (a connection handler) and the HTTP API on <c>HTTP_PORT</c>. Ctrl-C / SIGTERM cancel the
/// token; shutdown then hands leadership away, drains requests, stops replicas (flushing their engines)
/// and closes the node log, so a restart resumes with nothing lost and no manual step.
/// </summary>
public sealed class NodeRunner : INodeRunner
{
    public Task<int> RunAsync(NodeConfig config, CancellationToken cancellationToken) =>
        RunAsync(config, Console.Out, Console.Error, cancellationToken);

    /// <summary>
    /// <c>lsmraft start</c>: runs the node until <paramref name="cancellationToken"/> is cancelled (exit code 0) or it can
    /// no longer serve (<see cref="ExitCodes"/>: 3, 2, or 6 when the cluster downed it), writing what happens to
    /// <paramref name="output"/> and why it stops to <paramref name="error"/>.
    /// </summary>
    internal async Task<int> RunAsync(NodeConfig config, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        RunningNode started;
        try
        {
            started = await StartNodeAsync(config, output, fileSystem: null, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (IsStartFailure(e) && !cancellationToken.IsCancellationRequested)
        {
            error.WriteLine($"lsmraft: node {config.NodeName} cannot start: {ReplicaHealth.Describe(e)}");
            return ExitCodes.Unavailable;
        }
        await using var node = started;
        var runtime = node.Runtime;
        // The failure is read once, inside the wait: read again afterwards it could already read otherwise.
        NodeRuntime.FatalFailure? fatal = null;
        try
        {
            await runtime.WhenAsync(() => (fatal = runtime.Fatal) is not null, Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            fatal = null;
        }
        if (fatal is not null)
        {
            if (fatal.Downed)
            {
                error.WriteLine($"lsmraft: {fatal.Reason}");
                return ExitCodes.Downed;
            }
            error.WriteLine($"lsmraft: node {config.NodeName} cannot serve: {fatal.Reason}");
            if (fatal.EngineRefusedOptions)
                error.WriteLine("lsmraft: the storage engine refuses the configuration; fix the setting it names (docs/configuration.md) and start again.");
            return fatal.EngineRefusedOptions ? ExitCodes.BadInput : ExitCodes.Unavailable;
        }
        output.WriteLine($"lsmraft: node {config.NodeName} shutting down");
        return 0;
    }

    /// <summary>
    /// Failures that stop a node from starting and that an operator fixes outside it: a port in use, a data directory
    /// it cannot read or write, unreadable state in it, a cluster it cannot join. Anything else is a bug and propagates.
    /// </summary>
    private static bool IsStartFailure(Exception e) =>
        e is IOException or UnauthorizedAccessException or InvalidDataException or LsmRaft.Storage.LsmException or InvalidOperationException
            or System.Text.Json.JsonException;

    public async Task<int> RunDemoAsync(DemoOptions options, CancellationToken cancellationToken)
    {
        var (configs, errors) = options.BuildNodeConfigs();
        if (errors.Count > 0)
        {
            foreach (var error in errors)
                Console.Error.WriteLine($"lsmraft: {error}");
            return ExitCodes.BadInput;
        }
        var nodes = new List<RunningNode>();
        try
        {
            foreach (var config in configs)
            {
                try
                {
                    nodes.Add(await StartNodeAsync(config, TextWriter.Null, fileSystem: null, cancellationToken).ConfigureAwait(false));
                }
                catch (Exception e) when (IsStartFailure(e) && !cancellationToken.IsCancellationRequested)
                {
                    Console.Error.WriteLine($"lsmraft: demo node {config.NodeName} cannot start: {ReplicaHealth.Describe(e)}");
                    return ExitCodes.Unavailable;
                }
            }
            Console.Out.WriteLine($"LsmRaft demo cluster: {configs.Count} nodes on {options.BindAddress}, data under {Path.GetFullPath(options.DataDir)}");
            foreach (var config in configs)
                Console.Out.WriteLine($"  node {config.NodeName}: http://{config.BindAddress}:{config.HttpPort}  (peer port {config.Port}, data {config.DataDir})");
            Console.Out.WriteLine($"Try: curl -X PUT --data-binary hello http://{configs[0].BindAddress}:{configs[0].HttpPort}/v1/kv/greeting");
            Console.Out.WriteLine($"     curl http://{configs[^1].BindAddress}:{configs[^1].HttpPort}/v1/kv/greeting");
            Console.Out.WriteLine("Press Ctrl-C to stop.");
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
            Console.Out.WriteLine("lsmraft: stopping the demo cluster");
            return 0;
        }
        finally
        {
            // The whole cluster stops: at once, and without handing leadership to nodes that are stopping too.
            var stopwatch = System.Diagnostics.Stopwatch.StartNew();
            await Task.WhenAll(nodes.Select(node => node.StopAsync(handOverLeadership: false).AsTask())).ConfigureAwait(false);
            if (nodes.Count > 0)
                Console.Out.WriteLine($"lsmraft: demo cluster stopped in {stopwatch.Elapsed.TotalSeconds:F1} s");
        }
    }

    /// <summary>
    /// Starts one node in one generic host: Akka.Hosting's actor system (hocon/lsmraft.conf with the node's settings in
    /// front), the node runtime on it (<see cref="NodeRuntimeService"/>) keeping every file under DATA_DIR on
    /// <paramref name="fileSystem"/> (null: the real disk), and Kestrel. Dispose the result to stop it gracefully.
    /// </summary>
    internal static async Task<RunningNode> StartNodeAsync(NodeConfig config, TextWriter output, LsmRaft.Storage.IO.IFileSystem? fileSystem, CancellationToken cancellationToken)
    {
        AkkaConfig.RequireFiles();
        bool debugLog = Environment.GetEnvironmentVariable("LSMRAFT_DEBUG_LOG") is not null;
        var loggers = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(debugLog ? LogLevel.Debug : LogLevel.Warning));
        var telemetry = config.Metrics ? new NodeTelemetry(config.PeerId) : null;
        // From the very start: starting thousands of replicas is when a loaded machine pauses the process longest.
        var pauses = Monitoring.ProcessPauseDetector.Start(loggers.CreateLogger("lsmraft.pause"), telemetry?.MeterFactory);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = "lsmraft" });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);

        // Registration order is start order: Akka's hosted service, then the runtime on its system, then Kestrel
        // (WebApplication adds the server's hosted service after these). Stopping runs in reverse.
        // The replica region starts with the actor system; the runtime attaches to it and starts its replicas through it.
        var sharding = new Sharding.ReplicaSharding();
        builder.Services.AddSingleton(sharding);
        builder.Services.AddAkka(AkkaConfig.SystemName(config.GroupId), (akka, _) => akka
            .AddHoconFile(AkkaConfig.MainFile, HoconAddMode.Append)
            .AddHoconFile(AkkaConfig.ClusterFile, HoconAddMode.Append)
            .AddHocon(AkkaConfig.Overrides(config, debugLog), HoconAddMode.Prepend)
            .AddSetup(new Membership.PeerKeySetup(config.PeerKey))
            .WithActors((system, registry) => registry.Register<Sharding.ReplicaSharding>(sharding.StartRegion(system)))
            .ConfigureLoggers(logging =>
            {
                logging.ClearLoggers();
                logging.AddLoggerFactory(loggers);
            }));
        builder.Services.AddSingleton(sp => new NodeRuntimeService(config, loggers, fileSystem, telemetry, sp));
        builder.Services.AddHostedService(sp => sp.GetRequiredService<NodeRuntimeService>());

        var bind = IPAddress.Parse(config.BindAddress);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            // The handler is resolved on the first peer connection, not when the host is built: it needs the runtime,
            // which exists only once the actor system has started.
            kestrel.Listen(bind, config.Port, listen => listen.Run(connection =>
                listen.ApplicationServices.GetRequiredService<PeerConnectionHandler>().OnConnectedAsync(connection)));
            kestrel.ListenApi(new IPEndPoint(bind, config.HttpPort));
        });
        // Resolved on first use, after the runtime has started (Kestrel starts last).
        builder.Services.AddSingleton(sp => RuntimeOf(sp).PeerOptions!);
        builder.Services.AddSingleton<IPeerDispatcher>(sp => RuntimeOf(sp));
        builder.Services.AddSingleton<PeerConnectionHandler>();
        builder.Services.AddLsmRaftApi(config.ToApiOptions());
        if (telemetry is not null)
            builder.Services.AddLsmRaftMetrics(telemetry);
        builder.Services.AddSingleton<IKvService>(sp => RuntimeOf(sp).Router!);
        builder.Services.AddSingleton<IReadiness>(sp => RuntimeOf(sp));
        builder.Services.AddSingleton<IBackgroundStatus>(sp => RuntimeOf(sp));
        builder.Services.AddSingleton<IClusterAdmin>(sp =>
        {
            var runtime = RuntimeOf(sp);
            return new ClusterAdmin(runtime.Router!, runtime.ShardMaps!, runtime.Mover!, runtime.BuildClusterView);
        });
        builder.Services.AddSingleton<INodeMonitor>(services => new Monitoring.NodeMonitor(RuntimeOf(services), services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(),
            TimeProvider.System, loggers.CreateLogger("lsmraft.monitor")));
        builder.Services.AddSingleton<INodeAdmin>(sp => new NodeAdmin(RuntimeOf(sp), RuntimeOf(sp).ShardMaps!));
        var app = builder.Build();
        app.Use(async (context, next) =>
        {
            // A request this node forwarded to another node's leader tells the client where the leader is.
            var trace = RouteTrace.Begin();
            context.Response.OnStarting(() =>
            {
                if (trace.ForwardedTo != 0 && RuntimeOf(context.RequestServices).HttpAddressOf(trace.ForwardedTo) is { Length: > 0 } leader)
                    context.Response.Headers[LsmRaft.Client.Wire.WireNames.LeaderHintHeader] = leader;
                return Task.CompletedTask;
            });
            await next(context).ConfigureAwait(false);
        });
        app.UseLsmRaftApi();
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // Stops what started (the runtime, if its start got that far, and the actor system).
            await app.StopAsync(CancellationToken.None).ConfigureAwait(false);
            await app.DisposeAsync().ConfigureAwait(false);
            pauses.Dispose();
            telemetry?.Dispose();
            loggers.Dispose();
            throw;
        }
        output.WriteLine($"lsmraft: node {config.NodeName} serving HTTP on {config.BindAddress}:{config.HttpPort}, peers on {config.BindAddress}:{config.Port}, data in {config.DataDir}");
        app.Services.GetRequiredService<INodeMonitor>(); // now, with the runtime started: it measures traffic from here on
        return new RunningNode(RuntimeOf(app.Services), app, loggers, config.ShutdownTimeout, telemetry, pauses);
    }

    private static NodeRuntime RuntimeOf(IServiceProvider services) => services.GetRequiredService<NodeRuntimeService>().Runtime;

    internal sealed class RunningNode(NodeRuntime runtime, WebApplication app, ILoggerFactory loggers, TimeSpan shutdownTimeout, NodeTelemetry? telemetry,
        Monitoring.ProcessPauseDetector pauses) : IAsyncDisposable
    {
        public NodeRuntime Runtime { get; } = runtime;

        public WebApplication App { get; } = app;

        /// <summary>Stops gracefully; a node the cluster downed has no replicas left to hand leadership from.</summary>
        public async ValueTask DisposeAsync() => await StopAsync(handOverLeadership: Runtime.Fatal is not { Downed: true }).ConfigureAwait(false);

        /// <summary>
        /// Stops the node gracefully within the ShutdownTimeout setting: first (with <paramref name="handOverLeadership"/>)
        /// hands the leadership of its groups to other members (at most 3 s, or a third of the timeout), then lets
        /// in-flight HTTP requests finish within what is left of it (peer connections end at once, see
        /// <see cref="PeerConnectionHandler"/>), then stops replicas and closes the logs. True when every
        /// connection ended in time; false when Kestrel had to abort some (logged).
        /// </summary>
        public async ValueTask<bool> StopAsync(bool handOverLeadership)
        {
            var started = System.Diagnostics.Stopwatch.StartNew();
            if (handOverLeadership)
                await Runtime.TransferLeadershipAwayAsync(TimeSpan.FromTicks(Math.Min(TimeSpan.FromSeconds(3).Ticks, shutdownTimeout.Ticks / 3))).ConfigureAwait(false);
            // In-flight HTTP requests get the rest of the timeout; Kestrel aborts whatever is still open when it ends.
            var grace = shutdownTimeout - started.Elapsed;
            bool drained;
            using (var graceEnd = new CancellationTokenSource(grace > TimeSpan.Zero ? grace : TimeSpan.Zero))
            {
                // As the host's own stop does first: ApplicationStopping ends the peer connections at once.
                App.Lifetime.StopApplication();
                await App.Services.GetRequiredService<IServer>().StopAsync(graceEnd.Token).ConfigureAwait(false);
                drained = !graceEnd.IsCancellationRequested;
            }
            if (!drained)
                loggers.CreateLogger("lsmraft.node").LogWarning("Connections still open when the shutdown timeout ({Timeout}) ran out were aborted", shutdownTimeout);
            // The rest of the host, in reverse start order: the runtime (replicas stopped, engines flushed, logs closed), then Akka.
            await App.StopAsync(CancellationToken.None).ConfigureAwait(false);
            await App.DisposeAsync().ConfigureAwait(false);
            pauses.Dispose();
            telemetry?.Dispose();
            loggers.Dispose();
            return drained;
        }
    }
}
