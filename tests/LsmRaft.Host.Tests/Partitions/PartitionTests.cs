using System.Diagnostics;
using System.Net;
using LsmRaft.Host.Cli;
using LsmRaft.Host.Node;
using LsmRaft.Host.Tests.Support;
using LsmRaft.Protocol.Cluster;
using Xunit.Abstractions;

namespace LsmRaft.Host.Tests.Partitions;

/// <summary>
/// Network partitions of a 3-node cluster in this process, made with Akka.Remote's throttler (blackhole) on the Akka
/// data plane (<see cref="PartitionedCluster"/>): what Raft promises (a new leader on the majority side, nothing
/// acknowledged or linearizably read on the minority side, every replica equal after healing) and what the split-brain
/// resolver does (the minority node is downed and its <c>lsmraft start</c> exits with code 6).
/// </summary>
/// <remarks>
/// A blackhole keeps the TCP connection up, so a partitioned peer is noticed by Akka.Cluster's failure detector
/// (Unreachable 4–5 s after the cut with the default 1 s heartbeat and 3 s acceptable pause), which wakes quiesced
/// followers; an election takes one or two more election timeouts (1–2 s). Bounds below are those times with slack for
/// a loaded 2-core machine; each spec prints what it measured and when each of its steps ended.
/// </remarks>
public sealed class PartitionTests(ITestOutputHelper output) : IDisposable
{
    private readonly Stopwatch _elapsed = Stopwatch.StartNew();

    private void Mark(string what) => output.WriteLine($"{_elapsed.Elapsed.TotalSeconds,5:F1} s: {what}");

    public void Dispose() => output.WriteLine($"spec took {_elapsed.Elapsed.TotalSeconds:F1} s");

    /// <summary>Client requests fail after this: short, so that a request the minority cannot serve ends quickly.</summary>
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(3);

    /// <summary>Failure detection (≤ ~5 s) plus two randomized election timeouts (≤ 4 s), with slack for load.</summary>
    private static readonly TimeSpan ElectionBound = TimeSpan.FromSeconds(15);

    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task An_isolated_leader_acknowledges_nothing_while_the_majority_elects_a_new_leader_and_commits()
    {
        await using var cluster = await PartitionedCluster.StartAsync(RequestTimeout);
        Mark("started");
        await cluster.WaitUntilFormedAsync(Deadline);
        Mark("formed");
        const ulong shard = 1;
        ulong leader = await AgreedLeaderAsync(cluster, shard, cluster.Nodes.Running);
        var majority = cluster.Nodes.Running.Where(n => n != leader).ToList();
        string before = cluster.KeyIn(shard, "before-"), lost = cluster.KeyIn(shard, "lost-"), after = cluster.KeyIn(shard, "after-");
        PartitionedCluster.IsSuccess(await cluster.PutAsync(leader, before, "v0")).Should().BeTrue("the cluster works before the partition");
        // An idle shard, the common case: its timers are stopped, so only a lost peer wakes its followers.
        await Poll.UntilAsync(() => cluster.Nodes.Running.All(n => cluster.Nodes.Runtime(n).ReplicaReports().Single(r => r.ShardId == shard).Quiesced),
            $"every replica of shard {shard} is quiesced", Deadline);

        Mark("cutting");
        var cut = Stopwatch.StartNew();
        await cluster.IsolateAsync(leader);
        var isolatedWrite = cluster.PutAsync(leader, lost, "never-acknowledged");

        ulong elected = await AgreedLeaderAsync(cluster, shard, majority, ElectionBound);
        output.WriteLine($"leader {leader} isolated; node {elected} leads shard {shard} after {cut.Elapsed.TotalSeconds:F1} s");
        elected.Should().NotBe(leader);
        foreach (ulong node in majority)
        {
            await cluster.PutUntilAcknowledgedAsync(node, after, $"via-{node}", Deadline);
            (await cluster.GetAsync(node, after)).Should().Be((HttpStatusCode.OK, $"via-{node}"), "a linearizable read on the majority side sees the last acknowledged write");
        }

        Mark("majority wrote");
        var status = await isolatedWrite.WaitAsync(RequestTimeout + Deadline);
        PartitionedCluster.IsSuccess(status).Should().BeFalse($"the isolated leader cannot commit (it answered {(int)status})");
        (await cluster.GetAsync(leader, lost, "stale")).Status.Should().Be(HttpStatusCode.NotFound, "the isolated leader applied nothing it could not commit");
        (await cluster.GetAsync(leader, after, "stale")).Status.Should().Be(HttpStatusCode.NotFound, "the isolated node has not seen the majority's writes");

        Mark("healing");
        await cluster.HealAsync(leader);
        await Poll.UntilAsync(() => cluster.Nodes.Runtime(leader).LeaderOf(shard) == elected, $"the old leader {leader} follows node {elected}", Deadline);
        Mark("the old leader follows the new one");
        await Poll.UntilAsync(async () => (await cluster.GetAsync(leader, after, "stale")).Value == $"via-{majority[^1]}", "the old leader catches up", Deadline);
        (await cluster.GetAsync(leader, lost, "stale")).Status.Should().Be(HttpStatusCode.NotFound, "its uncommitted entry was overwritten, never applied");
        (await cluster.GetAsync(leader, before, "stale")).Should().Be((HttpStatusCode.OK, "v0"));
        Mark("the old leader caught up");
    }

    [Fact]
    public async Task A_minority_node_serves_no_linearizable_read_or_write_and_after_healing_every_node_holds_the_same_keys()
    {
        await using var cluster = await PartitionedCluster.StartAsync(RequestTimeout);
        Mark("started");
        await cluster.WaitUntilFormedAsync(Deadline);
        Mark("formed");
        const ulong minority = 3;
        var majority = new ulong[] { 1, 2 };
        var keys = ShardsOf(cluster).Select(s => cluster.KeyIn(s, "k-")).ToList();
        foreach (var key in keys)
            await cluster.PutUntilAcknowledgedAsync(1, key, "v0", Deadline);

        Mark("cutting");
        var cut = Stopwatch.StartNew();
        await cluster.IsolateAsync(minority);
        // The minority node holds every key (it is a replica of every shard), yet must not answer for them.
        var minorityReads = keys.Select(k => cluster.GetAsync(minority, k)).ToList();
        var minorityWrites = keys.Select(k => cluster.PutAsync(minority, k, "from-the-minority")).ToList();
        // The majority writes to every shard through both of its nodes (a shard the minority node led elects a leader first).
        foreach (ulong node in majority)
            foreach (var key in keys)
                await cluster.PutUntilAcknowledgedAsync(node, key, $"v-{node}", Deadline);
        var fresh = Enumerable.Range(0, 12).Select(i => (Key: $"during-{i}", Value: $"value-{i}")).ToList();
        for (int i = 0; i < fresh.Count; i++)
            await cluster.PutUntilAcknowledgedAsync(majority[i % 2], fresh[i].Key, fresh[i].Value, Deadline);
        output.WriteLine($"node {minority} isolated; the majority acknowledged writes to all {keys.Count} shards within {cut.Elapsed.TotalSeconds:F1} s");
        var written = fresh.Concat(keys.Select(k => (Key: k, Value: "v-2"))).ToList();
        foreach (ulong node in majority)
            foreach (var (key, value) in written)
                (await cluster.GetAsync(node, key)).Should().Be((HttpStatusCode.OK, value), $"node {node} reads {key} linearizably");

        Mark("majority wrote and read");
        foreach (var (read, key) in (await Task.WhenAll(minorityReads).WaitAsync(Deadline)).Zip(keys))
            read.Status.Should().NotBe(HttpStatusCode.OK, $"the minority node must not serve a linearizable read of {key}");
        foreach (var (write, key) in (await Task.WhenAll(minorityWrites).WaitAsync(Deadline)).Zip(keys))
            PartitionedCluster.IsSuccess(write).Should().BeFalse($"the minority node must not acknowledge a write of {key} (it answered {(int)write})");
        foreach (var (read, key) in (await Task.WhenAll(keys.Select(k => cluster.GetAsync(minority, k))).WaitAsync(Deadline)).Zip(keys))
            read.Status.Should().NotBe(HttpStatusCode.OK, $"still no linearizable read of {key} after the majority moved on");
        foreach (var (key, _) in fresh)
            (await cluster.GetAsync(minority, key, "stale")).Status.Should().Be(HttpStatusCode.NotFound, $"the isolated node has not applied {key}");

        var healed = Stopwatch.StartNew();
        Mark("healing");
        await cluster.HealAsync(minority);
        foreach (ulong node in cluster.Nodes.Running)
        {
            // A stale read is answered by the node's own replica of the key's shard: this reads every node's state machines.
            await Poll.UntilAsync(async () =>
            {
                foreach (var (key, value) in written)
                    if (await cluster.GetAsync(node, key, "stale") != (HttpStatusCode.OK, value))
                        return false;
                return true;
            }, $"node {node}'s replicas hold all {written.Count} keys", Deadline);
        }
        Mark("every node holds every key");
        output.WriteLine($"every node held all {written.Count} keys {healed.Elapsed.TotalSeconds:F1} s after healing");
        await cluster.PutUntilAcknowledgedAsync(minority, "after-healing", "through-the-healed-node", Deadline);
        (await cluster.GetAsync(1, "after-healing")).Should().Be((HttpStatusCode.OK, "through-the-healed-node"));
    }

    [Fact]
    public async Task A_partition_held_past_stable_after_downs_the_minority_node_and_its_start_exits_with_code_6()
    {
        const ulong minority = 3;
        await using var cluster = await PartitionedCluster.StartAsync(RequestTimeout, stableAfter: TimeSpan.FromSeconds(2), notStarted: [minority]);
        var errors = new StringWriter();
        using var stop = new CancellationTokenSource();
        // Node 3 runs as `lsmraft start` runs it, in this process.
        var run = Task.Run(() => new NodeRunner().RunAsync(cluster.Nodes.Configs.Single(c => c.PeerId == minority), TextWriter.Null, TextWriter.Synchronized(errors), stop.Token));
        try
        {
            Mark("nodes 1 and 2 started");
            await cluster.Nodes.WaitUntilReadyAsync();
            await cluster.Nodes.WaitUntilAsync(1, r => r.LivenessOf(minority, DateTimeOffset.UtcNow) == NodeState.Up, Deadline, $"node {minority} is an up member");
            await Poll.UntilAsync(() => run.IsCompleted || cluster.Nodes.Runtime(1).DataPlane!.IsConnected(minority), $"node 1 is associated with node {minority}", Deadline);

            Mark("cutting");
        var cut = Stopwatch.StartNew();
            await cluster.IsolateAsync(minority);
            int code = await run.WaitAsync(Deadline + Deadline);
            Mark("node 3 exited");
            output.WriteLine($"node {minority} exited with code {code} {cut.Elapsed.TotalSeconds:F1} s after the cut: {errors}");
            code.Should().Be(ExitCodes.Downed);
            stop.IsCancellationRequested.Should().BeFalse("the node exits on its own");
            errors.ToString().Should().Contain($"node {minority} was downed by the cluster's split-brain resolver").And.Contain("Restart it");

            foreach (ulong node in new ulong[] { 1, 2 })
                await cluster.Nodes.WaitUntilAsync(node, r => r.LivenessOf(minority, DateTimeOffset.UtcNow) == NodeState.Down, Deadline, $"node {minority} is down");
            Mark("node 3 down in the majority's view");
            foreach (var shard in ShardsOf(cluster))
                await cluster.PutUntilAcknowledgedAsync(1, cluster.KeyIn(shard, "kept-"), "majority", Deadline);
            Mark("majority wrote");
        }
        finally
        {
            stop.Cancel();
            await run.WaitAsync(Deadline).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    private static IEnumerable<ulong> ShardsOf(PartitionedCluster cluster) =>
        cluster.Nodes.Runtime(1).ShardMaps!.Lookup.Shards.Select(s => s.Id).Order();

    /// <summary>Waits until every node in <paramref name="nodes"/> names the same leader of <paramref name="shard"/>, one of them, that names itself.</summary>
    private static async Task<ulong> AgreedLeaderAsync(PartitionedCluster cluster, ulong shard, IReadOnlyCollection<ulong> nodes, TimeSpan? within = null)
    {
        ulong agreed = 0;
        try
        {
            await Poll.UntilAsync(() =>
            {
                var views = nodes.Select(n => cluster.Nodes.Runtime(n).LeaderOf(shard)).Distinct().ToList();
                agreed = views is [{ } leader] && nodes.Contains(leader) ? leader : 0;
                return agreed != 0;
            }, $"nodes {string.Join(", ", nodes)} agree on a leader of shard {shard} among them", within ?? Deadline);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message} {cluster.Describe()}", e);
        }
        return agreed;
    }
}
