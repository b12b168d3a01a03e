using System.Diagnostics.Metrics;
using LsmRaft.Actors;
using LsmRaft.Storage;
using Microsoft.Extensions.Diagnostics.Metrics;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace LsmRaft.Host.Metrics;

/// <summary>
/// One node's metrics: the <see cref="IMeterFactory"/> its instruments come from, and the OpenTelemetry
/// <see cref="MeterProvider"/> with the Prometheus exporter that <c>GET /metrics</c> reads.
/// </summary>
/// <remarks>
/// Several nodes may share a process (in-process cluster tests, <c>lsmraft demo</c>) and meters of one name then exist
/// once per node. The provider selects by scope, not by name: it lives in a small service container of its own whose
/// metrics rules enable <see cref="MeterNames"/> for <see cref="MeterScope.Local"/> meters only, i.e. the meters this
/// container's factory created. The node's web application is handed the same factory (<see cref="ApiServer.AddLsmRaftMetrics"/>)
/// so ASP.NET Core's HTTP meters fall in that scope too. Every series carries the label <c>node</c> (a resource attribute
/// exported as a constant label).
/// </remarks>
public sealed class NodeTelemetry : IDisposable
{
    /// <summary>Where the scrape endpoint is served.</summary>
    public const string ScrapePath = "/metrics";

    /// <summary>Meters exported: this project's, and ASP.NET Core's request and connection meters.</summary>
    public static readonly IReadOnlyList<string> MeterNames =
        ["LsmRaft", "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel"];

    private readonly ServiceProvider _services;

    /// <param name="nodeId">The node's id, the value of the <c>node</c> label.</param>
    public NodeTelemetry(ulong nodeId)
    {
        string node = nodeId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var services = new ServiceCollection();
        services.AddMetrics(metrics =>
        {
            foreach (string meter in MeterNames)
                metrics.EnableMetrics(meter, instrumentName: null, listenerName: "OpenTelemetry", scopes: MeterScope.Local);
        });
        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource
                .AddService("lsmraft", serviceInstanceId: node)
                .AddAttributes([new KeyValuePair<string, object>("node", node)]))
            .WithMetrics(metrics => metrics.AddPrometheusExporter(prometheus =>
            {
                // Every scrape collects afresh (the default caches answers for 300 ms).
                prometheus.ScrapeResponseCacheDurationMilliseconds = 0;
                prometheus.ResourceConstantLabels = attribute => attribute == "node";
            }));
        _services = services.BuildServiceProvider();
        MeterFactory = _services.GetRequiredService<IMeterFactory>();
        MeterProvider = _services.GetRequiredService<MeterProvider>();
        // Starts the subscription manager, which applies the rules above to every meter published from now on.
        _services.GetRequiredService<Microsoft.Extensions.Options.IStartupValidator>().Validate();
        Raft = new RaftMetrics(MeterFactory);
        Storage = new StorageMetrics(MeterFactory);
        Transport = new TransportMetrics(MeterFactory);
    }

    public IMeterFactory MeterFactory { get; }

    public MeterProvider MeterProvider { get; }

    internal RaftMetrics Raft { get; }

    public StorageMetrics Storage { get; }

    internal TransportMetrics Transport { get; }

    public void Dispose()
    {
        Raft.Dispose();
        Storage.Dispose();
        _services.Dispose();
    }
}
