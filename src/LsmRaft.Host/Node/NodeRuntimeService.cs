using Akka.Actor;
using LsmRaft.Host.Config;

namespace LsmRaft.Host.Node;

/// <summary>
/// Runs a node's <see cref="NodeRuntime"/> inside the generic host, on the actor system Akka.Hosting created: it
/// starts after Akka's hosted service (registered before it) and before Kestrel (registered by the host last), and
/// stops in the reverse order: the runtime stops — replicas flushed, node log closed — before the actor system does.
/// </summary>
internal sealed class NodeRuntimeService(NodeConfig config, ILoggerFactory loggers, LsmRaft.Storage.IO.IFileSystem? fileSystem, LsmRaft.Host.Metrics.NodeTelemetry? telemetry, IServiceProvider services) : IHostedService, IAsyncDisposable
{
    private NodeRuntime? _runtime;
    private int _stopped;

    /// <summary>The runtime, once the host has started; the API's services resolve through it on first use.</summary>
    public NodeRuntime Runtime => _runtime ?? throw new InvalidOperationException("The node has not started yet.");

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var runtime = new NodeRuntime(config, loggers, services.GetRequiredService<ActorSystem>(), services.GetRequiredService<Sharding.ReplicaSharding>(), fileSystem, telemetry);
        _runtime = runtime;
        runtime.Start();
        return Task.CompletedTask;
    }

    /// <summary>Stops the runtime completely, whatever the host's token says: stopping it halfway would lose the final flushes.</summary>
    public async Task StopAsync(CancellationToken cancellationToken) => await DisposeAsync().ConfigureAwait(false);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 0 && _runtime is not null)
            await _runtime.DisposeAsync().ConfigureAwait(false);
    }
}
