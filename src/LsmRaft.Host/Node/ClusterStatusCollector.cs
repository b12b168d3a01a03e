using System.Net.Http.Json;
using System.Text.Json;
using LsmRaft.Client.Wire;
using LsmRaft.Host.Api;
using LsmRaft.Protocol.Cluster;

namespace LsmRaft.Host.Node;

/// <summary>
/// Serves <see cref="IClusterStatus"/> on a node: its own report directly, the others' by asking each node that is
/// not down for <c>GET /v1/node</c> in parallel, each within <see cref="ReportTimeout"/>, so one slow node delays the
/// answer by at most that long and shows as unreported.
/// </summary>
internal sealed class ClusterStatusCollector(NodeRuntime runtime) : IClusterStatus, IDisposable
{
    public static readonly TimeSpan ReportTimeout = TimeSpan.FromSeconds(2);

    private readonly HttpClient _http = new(new SocketsHttpHandler { ConnectTimeout = ReportTimeout, PooledConnectionLifetime = TimeSpan.FromMinutes(2) })
    {
        Timeout = ReportTimeout,
    };

    public NodeReport GetNodeReport() => runtime.Report();

    public async Task<ClusterStatus> GetClusterStatusAsync(CancellationToken cancellationToken)
    {
        var view = runtime.BuildClusterView();
        var asks = view.Nodes.Select(async node => (node.Id, Result: await AskAsync(node, cancellationToken).ConfigureAwait(false)));
        var reports = (await Task.WhenAll(asks).ConfigureAwait(false)).ToDictionary(r => r.Id, r => r.Result);
        return ClusterStatusBuilder.Build(view, reports, runtime.MetaVoters.ToHashSet(), DateTimeOffset.UtcNow);
    }

    private async Task<NodeReportResult> AskAsync(NodeInfo node, CancellationToken cancellationToken)
    {
        if (node.Id == runtime.NodeId)
            return new NodeReportResult(runtime.Report(), null);
        if (runtime.LivenessOf(node.Id, DateTimeOffset.UtcNow) == NodeState.Down)
            return new NodeReportResult(null, "the node is down (no heartbeat)");
        if (!Uri.TryCreate(node.HttpAddress, UriKind.Absolute, out var address))
            return new NodeReportResult(null, "the node's HTTP address is not known yet");
        try
        {
            var report = await _http.GetFromJsonAsync<NodeReport>(new Uri(address, "v1/node"), WireJson.Lenient, cancellationToken).ConfigureAwait(false);
            return new NodeReportResult(report, report is null ? "the node answered an empty report" : null);
        }
        catch (HttpRequestException e)
        {
            return new NodeReportResult(null, $"the node did not answer: {e.Message}");
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new NodeReportResult(null, $"the node did not answer within {ReportTimeout.TotalSeconds:0} s");
        }
        catch (JsonException e)
        {
            return new NodeReportResult(null, $"the node's report is not valid JSON: {e.Message}");
        }
    }

    public void Dispose() => _http.Dispose();
}
