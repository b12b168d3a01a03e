using System.Diagnostics.Metrics;
using System.Net.Http.Json;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using LsmRaft.Client.Wire;
using LsmRaft.Host.Api;
using LsmRaft.Host.Node;
using LsmRaft.Protocol.Cluster;
using LsmRaft.Protocol.Monitoring;

namespace LsmRaft.Host.Monitoring;

/// <summary>
/// The node's <see cref="INodeMonitor"/>: a loop that observes the cluster view every <see cref="ObserveInterval"/>
/// (membership and leadership events into the <see cref="ClusterEventFeed"/>) and closes a traffic interval every
/// second; while a stream asked for traffic, each second it also fetches the other nodes' newest samples, so one
/// connection to any node shows the whole cluster. Other nodes are read over their HTTP API with a short timeout: a
/// node that is down is reported, never waited for.
/// </summary>
internal sealed class NodeMonitor : INodeMonitor, IAsyncDisposable
{
    public static readonly TimeSpan ObserveInterval = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan TrafficInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan PeerTimeout = TimeSpan.FromMilliseconds(1500);
    private static readonly string BuildVersion =
        typeof(NodeMonitor).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    private readonly NodeRuntime _runtime;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ClusterEventFeed _feed;
    private readonly TrafficMeter _traffic;
    private readonly HttpClient _http;
    private readonly Lock _subscribersLock = new();
    private readonly List<ChannelWriter<TrafficSample>> _trafficSubscribers = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private int _fetchingPeers;

    public NodeMonitor(NodeRuntime runtime, IMeterFactory meters, TimeProvider time, ILogger logger)
    {
        _runtime = runtime;
        _time = time;
        _logger = logger;
        _feed = new ClusterEventFeed(runtime.NodeId);
        _traffic = new TrafficMeter(runtime.NodeId, meters, runtime.TotalWriteStalls, time.GetUtcNow());
        _traffic.Sampled += OnSampled;
        _http = new HttpClient(new SocketsHttpHandler { ConnectTimeout = PeerTimeout, PooledConnectionLifetime = TimeSpan.FromMinutes(1) })
        {
            Timeout = PeerTimeout,
        };
        _loop = Task.Run(() => RunAsync(_stop.Token));
    }

    /// <summary>The events this node has kept (tests, and the first page of the UI's event list).</summary>
    public ClusterEventFeed Feed => _feed;

    public NodeStatus GetStatus()
    {
        var now = _time.GetUtcNow();
        string? reason = _runtime.Reason;
        return new NodeStatus(_runtime.NodeId, BuildVersion, _runtime.StartedAt, (now - _runtime.StartedAt).TotalSeconds, _runtime.OwnPeerAddress,
            _runtime.HttpAddressOf(_runtime.NodeId), reason is null, reason, _runtime.ReplicaReports(), _runtime.BlockCacheReport(), _traffic.Latest);
    }

    public TrafficHistory GetTraffic(int last)
    {
        var history = _traffic.History;
        return new TrafficHistory(_runtime.NodeId, history.Skip(Math.Max(0, history.Count - last)).ToArray());
    }

    public async Task<IReadOnlyList<NodeReport>> GetAllAsync(CancellationToken cancellationToken)
    {
        var nodes = _runtime.BuildClusterView().Nodes;
        var reports = await Task.WhenAll(nodes.Select(async node =>
        {
            if (node.Id == _runtime.NodeId)
                return new NodeReport(node.Id, node.HttpAddress, node.State, GetStatus(), null);
            var (status, error) = await FetchAsync<NodeStatus>(node, "v1/node", cancellationToken).ConfigureAwait(false);
            return new NodeReport(node.Id, node.HttpAddress, node.State, status, error);
        })).ConfigureAwait(false);
        return reports;
    }

    public async Task<ClusterStatus> GetClusterStatusAsync(CancellationToken cancellationToken)
    {
        var reports = await GetAllAsync(cancellationToken).ConfigureAwait(false);
        return ClusterStatusBuilder.Build(_runtime.BuildClusterView(), reports, _time.GetUtcNow());
    }

    public async Task<IReadOnlyList<TrafficHistory>> GetAllTrafficAsync(CancellationToken cancellationToken)
    {
        var nodes = _runtime.BuildClusterView().Nodes;
        var histories = await Task.WhenAll(nodes.Select(async node =>
        {
            if (node.Id == _runtime.NodeId)
                return GetTraffic(TrafficMeter.HistoryLength);
            var (history, _) = await FetchAsync<TrafficHistory>(node, "v1/node/traffic", cancellationToken).ConfigureAwait(false);
            return history;
        })).ConfigureAwait(false);
        return histories.OfType<TrafficHistory>().ToArray();
    }

    public async IAsyncEnumerable<MonitorItem> StreamAsync(long? afterSequence, bool traffic, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // Observe first: the snapshot the new reader starts from is the view now, not the last tick's.
        if (_runtime.ShardMaps?.TryLookup is not null)
            _feed.Observe(_runtime.BuildClusterView(), _time.GetUtcNow());
        using var events = _feed.Subscribe(afterSequence, _time.GetUtcNow());
        // Samples may be dropped (the oldest first) when a reader is slow; events never are (the feed ends the stream instead).
        var samples = traffic ? Channel.CreateBounded<TrafficSample>(new BoundedChannelOptions(64) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true }) : null;
        if (samples is not null)
            lock (_subscribersLock)
                _trafficSubscribers.Add(samples.Writer);
        try
        {
            while (true)
            {
                while (events.Reader.TryRead(out var e))
                    yield return new MonitorItem.Event(e);
                while (samples is not null && samples.Reader.TryRead(out var sample))
                    yield return new MonitorItem.Traffic(sample);
                var eventReady = events.Reader.WaitToReadAsync(cancellationToken).AsTask();
                var sampleReady = samples?.Reader.WaitToReadAsync(cancellationToken).AsTask() ?? Task.Delay(Timeout.Infinite, cancellationToken);
                await Task.WhenAny(eventReady, sampleReady).ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
                if (eventReady.IsCompleted && (eventReady.IsFaulted || !eventReady.Result))
                    yield break; // dropped for falling behind: the reader reconnects with Last-Event-ID
            }
        }
        finally
        {
            if (samples is not null)
                lock (_subscribersLock)
                    _trafficSubscribers.Remove(samples.Writer);
        }
    }

    private async Task RunAsync(CancellationToken stop)
    {
        using var timer = new PeriodicTimer(ObserveInterval, _time);
        var nextRoll = _time.GetUtcNow() + TrafficInterval;
        try
        {
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                var now = _time.GetUtcNow();
                try
                {
                    if (_runtime.ShardMaps?.TryLookup is not null)
                        _feed.Observe(_runtime.BuildClusterView(), now);
                    if (now >= nextRoll)
                    {
                        nextRoll = now - nextRoll > TrafficInterval ? now + TrafficInterval : nextRoll + TrafficInterval; // no drift, no burst after a stall
                        _traffic.Roll(now);
                    }
                }
                catch (Exception e) when (e is InvalidOperationException or NullReferenceException or ObjectDisposedException)
                {
                    // The node is starting or stopping; the next tick tries again.
                    _logger.LogDebug("Monitor tick skipped: {Message}", e.Message);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void OnSampled(TrafficSample sample)
    {
        if (!Publish(sample))
            return;
        // Someone watches: bring the other nodes' newest samples too, unless the previous round is still running.
        if (Interlocked.Exchange(ref _fetchingPeers, 1) == 1)
            return;
        _ = Task.Run(async () =>
        {
            try
            {
                var others = _runtime.BuildClusterView().Nodes.Where(n => n.Id != _runtime.NodeId && n.State != NodeState.Removed);
                await Task.WhenAll(others.Select(async node =>
                {
                    var (history, _) = await FetchAsync<TrafficHistory>(node, "v1/node/traffic?last=1", _stop.Token).ConfigureAwait(false);
                    if (history is { Samples.Count: > 0 })
                        Publish(history.Samples[^1]);
                })).ConfigureAwait(false);
            }
            finally
            {
                Volatile.Write(ref _fetchingPeers, 0);
            }
        });
    }

    /// <summary>Hands the sample to every traffic reader; false when there is none.</summary>
    private bool Publish(TrafficSample sample)
    {
        lock (_subscribersLock)
        {
            foreach (var writer in _trafficSubscribers)
                writer.TryWrite(sample);
            return _trafficSubscribers.Count > 0;
        }
    }

    private async Task<(T? Value, string? Error)> FetchAsync<T>(NodeInfo node, string path, CancellationToken cancellationToken) where T : class
    {
        if (!Uri.TryCreate(node.HttpAddress, UriKind.Absolute, out var baseUri))
            return (null, $"node {node.Id} has not announced its HTTP address yet");
        try
        {
            var value = await _http.GetFromJsonAsync<T>(new Uri(baseUri, path), WireJson.Lenient, cancellationToken).ConfigureAwait(false);
            return (value, value is null ? $"node {node.Id} answered an empty body" : null);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException)
        {
            return (null, $"node {node.Id} at {node.HttpAddress} did not answer: {e.Message}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        await _loop.ConfigureAwait(false);
        _traffic.Dispose();
        _http.Dispose();
        _stop.Dispose();
    }
}
