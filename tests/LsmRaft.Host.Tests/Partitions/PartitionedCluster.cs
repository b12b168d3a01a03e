using System.Net;
using System.Text;
using Akka.Actor;
using Akka.Remote;
using Akka.Remote.Transport;
using LsmRaft.Host.Config;
using LsmRaft.Host.Membership;
using LsmRaft.Host.Tests.Cluster;
using Microsoft.Extensions.DependencyInjection;
using AkkaCluster = Akka.Cluster.Cluster;

namespace LsmRaft.Host.Tests.Partitions;

/// <summary>
/// Real nodes in this process (<see cref="InProcessCluster"/>) whose Raft traffic and forwarded requests travel over
/// Akka.Remote (<c>LSMRAFT_DATA_PLANE=akka</c>), with Akka's throttler adapter in every node's transport stack
/// (<see cref="NodeTransport.TestThrottlerPath"/>), so that a test cuts links the way a network partition does:
/// <see cref="ThrottleTransportAdapter"/>'s blackhole drops every byte in both directions and keeps the TCP connection,
/// so nothing is told about it but the failure detectors. No multi-node test runner, no TestConductor: each node's
/// transport takes the <see cref="SetThrottle"/> command directly.
/// </summary>
internal sealed class PartitionedCluster : IAsyncDisposable
{
    private readonly InProcessCluster _cluster;

    private PartitionedCluster(InProcessCluster cluster) => _cluster = cluster;

    public InProcessCluster Nodes => _cluster;

    /// <summary>
    /// Starts 3 nodes (one shard per node, every shard and the meta group on all three) with client requests timing out
    /// after <paramref name="requestTimeout"/>, and the split-brain resolver acting after <paramref name="stableAfter"/>
    /// (long by default, so that only the test that wants a node downed sees one).
    /// </summary>
    public static async Task<PartitionedCluster> StartAsync(TimeSpan requestTimeout, TimeSpan? stableAfter = null, IReadOnlyCollection<ulong>? notStarted = null)
    {
        var settle = (int)(stableAfter ?? TimeSpan.FromSeconds(120)).TotalMilliseconds;
        var cluster = await InProcessCluster.StartAsync(3, shardsPerNode: 1, configure: c => c with
        {
            DataPlane = DataPlaneKind.Akka,
            RequestTimeout = requestTimeout,
            // The throttler drops a Disassociated from below without telling Akka.Remote ("relying on heartbeating"):
            // with it in the stack a node sometimes never joined (its sends stopped and nothing reported it), most
            // likely a connection closed under the throttler left a dead association that only the transport failure
            // detector ends, after 120 s by default. Seconds here, and a short gate so that the pair reconnects at once
            // (docs/testing.md). A join through the members the bootstrap heard from retries its InitJoin after 1 s (5 s
            // by default) so that specs start sooner; and a whole cluster stopping at once waits at most 2 s (not 5 s and
            // 10 s) in the leave phases, for lack of convergence among members that all leave.
            AkkaHocon = $"""
                {NodeTransport.TestThrottlerPath} = on
                akka.cluster.split-brain-resolver.stable-after = {settle}ms
                akka.remote.transport-failure-detector.heartbeat-interval = 1s
                akka.remote.transport-failure-detector.acceptable-heartbeat-pause = 5s
                akka.remote.retry-gate-closed-for = 1s
                akka.cluster.seed-node-timeout = 1s
                akka.coordinated-shutdown.phases.cluster-leave.timeout = 2s
                akka.coordinated-shutdown.phases.cluster-exiting.timeout = 2s
                """,
        }, notStarted: notStarted);
        foreach (ulong id in cluster.Running)
        {
            var protocol = AkkaCluster.Get(cluster.Services(id).GetRequiredService<ActorSystem>()).SelfAddress.Protocol;
            if (!protocol.Contains("trttl", StringComparison.Ordinal))
                throw new InvalidOperationException($"Node {id}'s transport has no throttler (its addresses read {protocol}): {NodeTransport.TestThrottlerPath} did not take effect.");
        }
        return new PartitionedCluster(cluster);
    }

    /// <summary>
    /// Waits until every running node is ready and sees every running node as an up member of the Akka cluster (the
    /// failure detector that notices a partition watches members only).
    /// </summary>
    public async Task WaitUntilFormedAsync(TimeSpan within)
    {
        await _cluster.WaitUntilReadyAsync(within);
        var running = _cluster.Running;
        try
        {
            await Support.Poll.UntilAsync(() => running.All(n => running.All(m => _cluster.Runtime(n).LivenessOf(m, DateTimeOffset.UtcNow) == LsmRaft.Protocol.Cluster.NodeState.Up)),
                "every node is an up member in every node's view", within);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message} {Describe()}", e);
        }
    }

    public ActorSystem SystemOf(ulong id) => _cluster.Services(id).GetRequiredService<ActorSystem>();

    /// <summary>Node <paramref name="id"/>'s Akka address (its protocol names the throttler: <c>akka.trttl.lsmauth.tcp</c>), whether or not it runs in this fixture.</summary>
    public Address AddressOf(ulong id)
    {
        var any = AkkaCluster.Get(SystemOf(_cluster.Running.First())).SelfAddress;
        var config = _cluster.Configs.Single(c => c.PeerId == id);
        return new Address(any.Protocol, any.System, "127.0.0.1", config.EffectiveAkkaPort);
    }

    /// <summary>Cuts node <paramref name="id"/> off from every other node: both directions, at both ends of each link this fixture runs.</summary>
    public Task IsolateAsync(ulong id) => SetAsync(id, Blackhole.Instance);

    /// <summary>Restores every link of node <paramref name="id"/>.</summary>
    public Task HealAsync(ulong id) => SetAsync(id, Unthrottled.Instance);

    private async Task SetAsync(ulong id, ThrottleMode mode)
    {
        var running = _cluster.Running;
        foreach (ulong other in _cluster.Configs.Select(c => c.PeerId).Where(o => o != id))
        {
            if (running.Contains(other))
                await ThrottleAsync(SystemOf(other), AddressOf(id), mode);
            if (running.Contains(id))
                await ThrottleAsync(SystemOf(id), AddressOf(other), mode);
        }
    }

    private static async Task ThrottleAsync(ActorSystem at, Address peer, ThrottleMode mode)
    {
        // Remoting hands the command to every transport of the node: NodeTransport passes it to the throttler on top.
        var remoting = ((IRemoteActorRefProvider)((ExtendedActorSystem)at).Provider).Transport;
        bool applied = await remoting
            .ManagementCommand(new SetThrottle(peer, ThrottleTransportAdapter.Direction.Both, mode))
            .WaitAsync(TimeSpan.FromSeconds(10));
        if (!applied)
            throw new InvalidOperationException($"The transport of {at.Name} did not apply {mode} towards {peer}: is {NodeTransport.TestThrottlerPath} on?");
    }

    /// <summary>The id of the data shard that owns <paramref name="key"/>.</summary>
    public ulong ShardOf(string key) => _cluster.Runtime(_cluster.Running.First()).ShardMaps!.Lookup.Find(Encoding.UTF8.GetBytes(key)).Id;

    /// <summary>A key that shard <paramref name="shardId"/> owns, named <paramref name="prefix"/> and a number.</summary>
    public string KeyIn(ulong shardId, string prefix) =>
        Enumerable.Range(0, 10_000).Select(i => $"{prefix}{i}").First(k => ShardOf(k) == shardId);

    /// <summary>PUT through node <paramref name="node"/>; the status it answered.</summary>
    public async Task<HttpStatusCode> PutAsync(ulong node, string key, string value) => (await PutAnswerAsync(node, key, value)).Status;

    private async Task<(HttpStatusCode Status, string Body)> PutAnswerAsync(ulong node, string key, string value)
    {
        using var client = _cluster.ClientFor(node);
        try
        {
            using var response = await client.PutAsync($"/v1/kv/{key}", new ByteArrayContent(Encoding.UTF8.GetBytes(value)));
            return (response.StatusCode, await response.Content.ReadAsStringAsync());
        }
        catch (TaskCanceledException)
        {
            return (HttpStatusCode.RequestTimeout, "the client gave up"); // nothing was acknowledged
        }
    }

    /// <summary>GET through node <paramref name="node"/> at <paramref name="consistency"/>: the status, and the value when 200.</summary>
    public async Task<(HttpStatusCode Status, string? Value)> GetAsync(ulong node, string key, string consistency = "linearizable")
    {
        using var client = _cluster.ClientFor(node);
        var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/kv/{key}?consistency={consistency}");
        request.Headers.Accept.ParseAdd("application/octet-stream");
        try
        {
            using var response = await client.SendAsync(request);
            return (response.StatusCode, response.StatusCode == HttpStatusCode.OK ? await response.Content.ReadAsStringAsync() : null);
        }
        catch (TaskCanceledException)
        {
            return (HttpStatusCode.RequestTimeout, null);
        }
    }

    /// <summary>PUTs through node <paramref name="node"/> until one is acknowledged (a shard may be electing a leader); fails after <paramref name="within"/>.</summary>
    public async Task PutUntilAcknowledgedAsync(ulong node, string key, string value, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        (HttpStatusCode Status, string Body) answer;
        while (!IsSuccess((answer = await PutAnswerAsync(node, key, value)).Status))
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"PUT {key} (shard {ShardOf(key)}) through node {node} was not acknowledged within {within.TotalSeconds:0} s; last answer {(int)answer.Status} {answer.Body}. {Describe()}");
            await Task.Delay(50);
        }
    }

    /// <summary>What every running node sees: members, data-plane connections, leaders (for failure messages).</summary>
    public string Describe() => string.Join(" | ", _cluster.Running.Order().Select(id =>
    {
        var runtime = _cluster.Runtime(id);
        var peers = _cluster.Configs.Select(c => c.PeerId).Where(p => p != id).Select(p => $"{p}:{(runtime.DataPlane!.IsConnected(p) ? "connected" : "not connected")}");
        var leaders = runtime.ShardMaps!.Lookup.Shards.Select(s => $"{s.Id}->{runtime.LeaderOf(s.Id)?.ToString() ?? "-"}").Prepend($"meta->{runtime.LeaderOf(0)?.ToString() ?? "-"}");
        return $"node {id}: members [{string.Join(", ", runtime.DescribeMembers())}] peers [{string.Join(", ", peers)}] leaders [{string.Join(", ", leaders)}]";
    }));

    public static bool IsSuccess(HttpStatusCode status) => (int)status is >= 200 and < 300;

    /// <summary>Stops every node at once, without leadership hand-overs (as <c>lsmraft demo</c> stops its cluster), then deletes the data.</summary>
    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(_cluster.Running.Select(id => _cluster.StopNodeWithoutHandOverAsync(id)));
        await _cluster.DisposeAsync();
    }
}
