using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using LsmRaft.Protocol.Cluster;

namespace LsmRaft.Host.Tests.Cluster;

/// <summary>Replica moves on a live four-node cluster: by operator command, and away from a node that stays down.</summary>
public sealed class ReplicaPlacementTests
{
    [Fact]
    public async Task A_replica_moves_off_the_shard_leader_while_writes_continue_and_nothing_acknowledged_is_lost()
    {
        // Rebalancing off: this test checks the placement the operator asked for.
        await using var cluster = await InProcessCluster.StartAsync(4, shardsPerNode: 1, c => c with { Rebalance = false });
        await cluster.WaitUntilReadyAsync();
        using var n1 = cluster.ClientFor(1);
        var shard = (await ShardsAsync(n1)).First(s => s.Replicas.Count == 3);
        ulong from = shard.Leader ?? shard.Replicas[0];
        ulong to = new ulong[] { 1, 2, 3, 4 }.First(n => !shard.Replicas.Contains(n));

        var acknowledged = new ConcurrentDictionary<string, string>();
        using var moved = new CancellationTokenSource();
        var writer = Task.Run(async () =>
        {
            int afterMove = 0;
            for (int i = 0; i < 3000 && afterMove < 50; i++)
            {
                string key = $"m{i:D5}", value = $"v{i}";
                var put = await n1.PutAsync($"/v1/kv/{key}", new ByteArrayContent(Encoding.UTF8.GetBytes(value)));
                put.IsSuccessStatusCode.Should().BeTrue($"PUT {key} answered {(int)put.StatusCode}: {await put.Content.ReadAsStringAsync()}");
                acknowledged[key] = value;
                if (moved.IsCancellationRequested)
                    afterMove++;
            }
        });
        while (acknowledged.Count < 50 && !writer.IsCompleted)
            await Task.WhenAny(writer, Task.Delay(10));

        using var n2 = cluster.ClientFor(2);
        var move = await n2.PostAsync($"/v1/admin/shards/{shard.Id}/move", new StringContent($"{{\"from\":{from},\"to\":{to}}}", Encoding.UTF8, "application/json"));
        move.StatusCode.Should().Be(HttpStatusCode.Accepted, await move.Content.ReadAsStringAsync());
        moved.Cancel();
        await writer;

        var after = (await ShardsAsync(n2)).Single(s => s.Id == shard.Id);
        after.Replicas.Should().BeEquivalentTo(shard.Replicas.Where(r => r != from).Append(to));
        after.Learners.Should().BeEmpty();
        string fromDir = Path.Combine(cluster.Configs.Single(c => c.PeerId == from).DataDir, "groups", shard.Id.ToString());
        await cluster.WaitUntilAsync(from, r => !Directory.Exists(fromDir), TimeSpan.FromSeconds(20), $"node {from} retires its replica of shard {shard.Id}");

        // A restart of the source does not bring back the bootstrap replica it no longer holds.
        await cluster.StopNodeAsync(from);
        await cluster.StartNodeAsync(from);
        Directory.Exists(fromDir).Should().BeFalse($"node {from} no longer holds shard {shard.Id}");
        await cluster.WaitUntilReadyAsync();

        // The new replica holds every acknowledged write of its shard: read them from it alone (stale reads are local).
        using var target = cluster.ClientFor(to);
        var view = await ShardsAsync(target);
        var lookup = new ShardMapLookup(view);
        foreach (var (key, value) in acknowledged.Where(kv => lookup.Find(Encoding.UTF8.GetBytes(kv.Key)).Id == shard.Id))
            (await GetAsync(target, key, "stale")).Should().Be(value, $"node {to}'s new replica holds {key}");
        foreach (var (key, value) in acknowledged)
            (await GetAsync(cluster.ClientFor(3), key, "linearizable")).Should().Be(value, key);

        (await n2.PostAsync($"/v1/admin/shards/{shard.Id}/move", new StringContent($"{{\"from\":{from},\"to\":{to}}}", Encoding.UTF8, "application/json")))
            .StatusCode.Should().Be(HttpStatusCode.Conflict, "the source no longer holds a replica");
        (await n2.PostAsync($"/v1/admin/shards/{shard.Id}/move", new StringContent($"{{\"from\":{to},\"to\":9}}", Encoding.UTF8, "application/json")))
            .StatusCode.Should().Be(HttpStatusCode.NotFound, "node 9 is not a member");

        // Back onto the node that held the replica before: it starts its log of the group over and catches up.
        var back = await n2.PostAsync($"/v1/admin/shards/{shard.Id}/move", new StringContent($"{{\"from\":{to},\"to\":{from}}}", Encoding.UTF8, "application/json"));
        back.StatusCode.Should().Be(HttpStatusCode.Accepted, await back.Content.ReadAsStringAsync());
        var backAgain = (await ShardsAsync(n2)).Single(s => s.Id == shard.Id);
        backAgain.Replicas.Should().BeEquivalentTo(shard.Replicas);
        // Each replica created after the bootstrap has an id of its own, never reused (docs/raft.md, "Replica identity"):
        // the one back on the source is its second there, and the target keeps its allocation after it left.
        backAgain.ReplicaIdOf(from).Should().Be(new ReplicaId(from, 1));
        backAgain.ReplicaIdOf(to).Should().Be(new ReplicaId(to, 1));
        using (var manifest = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(fromDir, "REPLICA"))))
            manifest.RootElement.GetProperty("ReplicaId").GetUInt64().Should().Be(new ReplicaId(from, 1).Value, "the source's new replica runs under its new id");
        using var source = cluster.ClientFor(from);
        var mine = acknowledged.Where(kv => lookup.Find(Encoding.UTF8.GetBytes(kv.Key)).Id == shard.Id).ToList();
        string last = mine.Max(kv => kv.Key)!;
        for (int i = 0; i < 200 && await TryGetAsync(source, last, "stale") != acknowledged[last]; i++)
            await Task.Delay(50); // bounded: the replica applies the tail it had not caught up with at promotion
        foreach (var (key, value) in mine)
            (await GetAsync(source, key, "stale")).Should().Be(value, $"node {from}'s new replica holds {key}");
    }

    [Fact]
    public async Task A_restart_drops_the_log_of_a_replica_whose_retirement_a_stop_interrupted()
    {
        await using var cluster = await InProcessCluster.StartAsync(3, shardsPerNode: 1);
        await cluster.WaitUntilReadyAsync();
        using var n1 = cluster.ClientFor(1);
        for (int i = 0; i < 20; i++)
            (await n1.PutAsync($"/v1/kv/o{i:D2}", new ByteArrayContent(Encoding.UTF8.GetBytes($"v{i}")))).EnsureSuccessStatusCode();
        var shard = (await ShardsAsync(n1)).First(s => s.Replicas.Contains(2UL));
        cluster.Runtime(2).LogHoldsEntriesOf(shard.Id).Should().BeTrue();

        // Retiring deletes the replica's directory, then forgets its log; a stop in between leaves the entries.
        await cluster.StopNodeAsync(2);
        Directory.Delete(Path.Combine(cluster.Configs.Single(c => c.PeerId == 2).DataDir, "groups", shard.Id.ToString()), recursive: true);
        await cluster.StartNodeAsync(2);

        cluster.Runtime(2).LogHoldsEntriesOf(shard.Id).Should().BeFalse("entries no replica needs would keep every later log segment from being deleted");
    }

    [Fact]
    public async Task A_replica_whose_directory_was_lost_is_replaced_by_a_new_incarnation_and_never_acts_under_its_old_id()
    {
        // Node 3 loses its replica of a shard (directory gone; the node log, with term and vote, is kept or not: the
        // replica's id may have voted and acknowledged entries it no longer holds). Its node must never start a member
        // under that id again; the group removes it and takes node 3 back as a new incarnation (docs/raft.md).
        await using var cluster = await InProcessCluster.StartAsync(3, shardsPerNode: 1, c => c with { Rebalance = false });
        await cluster.WaitUntilReadyAsync();
        using var n1 = cluster.ClientFor(1);
        var written = new Dictionary<string, string>();
        for (int i = 0; i < 30; i++)
        {
            (await n1.PutAsync($"/v1/kv/w{i:D2}", new ByteArrayContent(Encoding.UTF8.GetBytes($"v{i}")))).EnsureSuccessStatusCode();
            written[$"w{i:D2}"] = $"v{i}";
        }
        var shard = (await ShardsAsync(n1)).First(s => s.Replicas.Contains(3UL));
        var old = shard.ReplicaIdOf(3);
        old.Should().Be(ReplicaId.Bootstrap(3));

        await cluster.StopNodeAsync(3);
        string dir = Path.Combine(cluster.Configs.Single(c => c.PeerId == 3).DataDir, "groups", shard.Id.ToString());
        Directory.Delete(dir, recursive: true);
        await cluster.StartNodeAsync(3);

        // Until the group has replaced it, node 3 runs no replica of the shard at all: never one under the lost id.
        var replacement = new ReplicaId(3, 1);
        using var stop = new CancellationTokenSource();
        var watcher = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                if (cluster.Runtime(3).StatusOf(shard.Id) is { } status)
                    status.NodeId.Should().Be(replacement.Value, "node 3 runs the shard's replica only under the new incarnation");
                await Task.Delay(20);
            }
        });
        await cluster.WaitUntilAsync(1, r => r.ShardMaps!.TryLookup?.Shards.FirstOrDefault(s => s.Id == shard.Id) is { } now
                && now.Replicas.Contains(3UL) && now.Learners.Count == 0 && now.ReplicaIdOf(3) == replacement,
            TimeSpan.FromSeconds(90), $"shard {shard.Id} lists node 3 again, as replica {replacement}");
        stop.Cancel();
        await watcher;

        // The group's configuration holds the new id, not the lost one; the new replica holds the shard's data.
        await cluster.WaitUntilAsync(3, r => r.StatusOf(shard.Id) is { } s && s.Members.Voters.Contains(replacement.Value) && !s.Members.Contains(old.Value),
            TimeSpan.FromSeconds(30), $"node 3's replica of shard {shard.Id} sees itself as voter {replacement} and {old} gone");
        using (var manifest = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(dir, "REPLICA"))))
            manifest.RootElement.GetProperty("ReplicaId").GetUInt64().Should().Be(replacement.Value);
        using var n3 = cluster.ClientFor(3);
        var lookup = new ShardMapLookup(await ShardsAsync(n3));
        var mine = written.Where(kv => lookup.Find(Encoding.UTF8.GetBytes(kv.Key)).Id == shard.Id).ToList();
        string last = mine.Max(kv => kv.Key)!;
        for (int i = 0; i < 200 && await TryGetAsync(n3, last, "stale") != written[last]; i++)
            await Task.Delay(50); // bounded: the replica applies the tail it had not caught up with at promotion
        foreach (var (key, value) in mine)
            (await GetAsync(n3, key, "stale")).Should().Be(value, $"node 3's new replica holds {key}");
    }

    [Fact]
    public async Task A_node_whose_data_directory_was_wiped_never_votes_with_an_empty_log_and_its_shards_take_it_back_as_new_incarnations()
    {
        // Node 3's whole DATA_DIR is lost and it starts again with the same id and PEERS. Its peers admitted it before,
        // so it creates none of its bootstrap replicas (which may have voted and acknowledged entries that are gone):
        // every shard group removes the lost replica and takes node 3 back under a new incarnation.
        await using var cluster = await InProcessCluster.StartAsync(3, shardsPerNode: 1, c => c with { Rebalance = false });
        await cluster.WaitUntilReadyAsync();
        using var n1 = cluster.ClientFor(1);
        var written = new Dictionary<string, string>();
        for (int i = 0; i < 30; i++)
        {
            (await n1.PutAsync($"/v1/kv/z{i:D2}", new ByteArrayContent(Encoding.UTF8.GetBytes($"v{i}")))).EnsureSuccessStatusCode();
            written[$"z{i:D2}"] = $"v{i}";
        }
        var onThree = (await ShardsAsync(n1)).Where(s => s.Replicas.Contains(3UL)).ToList();
        onThree.Should().NotBeEmpty();

        await cluster.StopNodeAsync(3);
        string dataDir = cluster.Configs.Single(c => c.PeerId == 3).DataDir;
        Directory.Delete(dataDir, recursive: true);
        await cluster.StartNodeAsync(3);

        // Node 3 never runs a replica under a bootstrap id again: not of the meta group, not of any shard.
        using var stop = new CancellationTokenSource();
        var watcher = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                if (cluster.Runtime(3).StatusOf(LsmRaft.Host.Node.ClusterLayout.MetaGroupId) is { } meta)
                    ReplicaId.IncarnationOf(meta.NodeId).Should().BeGreaterThan(0, "node 3 runs the meta group only as a new incarnation");
                foreach (var shard in onThree)
                    if (cluster.Runtime(3).StatusOf(shard.Id) is { } status)
                        ReplicaId.IncarnationOf(status.NodeId).Should().BeGreaterThan(0, $"node 3 runs shard {shard.Id} only as a new incarnation");
                await Task.Delay(20);
            }
        });
        await cluster.WaitUntilAsync(1, r => onThree.All(shard => r.ShardMaps!.TryLookup?.Shards.FirstOrDefault(s => s.Id == shard.Id) is { } now
                && now.Replicas.Contains(3UL) && now.Learners.Count == 0 && now.ReplicaIdOf(3) == new ReplicaId(3, 1)),
            TimeSpan.FromSeconds(150), "every shard lists node 3 again, as its incarnation 1");
        stop.Cancel();
        await watcher;

        using var n3 = cluster.ClientFor(3);
        var lookup = new ShardMapLookup(await ShardsAsync(n3));
        var mine = written.Where(kv => onThree.Any(s => s.Id == lookup.Find(Encoding.UTF8.GetBytes(kv.Key)).Id)).ToList();
        foreach (var (key, value) in mine)
        {
            for (int i = 0; i < 200 && await TryGetAsync(n3, key, "stale") != value; i++)
                await Task.Delay(50); // bounded: the replica applies the tail it had not caught up with at promotion
            (await GetAsync(n3, key, "stale")).Should().Be(value, $"node 3's new replica holds {key}");
        }
    }

    [Fact]
    public async Task A_wiped_meta_voter_is_taken_back_as_a_new_incarnation_and_the_meta_group_has_three_voters_again()
    {
        // The meta group's voters are nodes 1-3. Node 3's DATA_DIR is lost: its meta replica (incarnation 0) may have voted
        // and acknowledged entries that are gone, so it is never a member again; the meta group removes it and takes node 3
        // back as replica 3#1 (learner, snapshot, voter), as a shard group does (docs/raft.md, "Replica identity", rule 5).
        const ulong metaGroup = LsmRaft.Host.Node.ClusterLayout.MetaGroupId;
        await using var cluster = await InProcessCluster.StartAsync(3, shardsPerNode: 1, c => c with { Rebalance = false });
        await cluster.WaitUntilReadyAsync();
        var old = ReplicaId.Bootstrap(3);
        var replacement = new ReplicaId(3, 1);
        cluster.Runtime(1).StatusOf(metaGroup)!.Members.Voters.Should().BeEquivalentTo(new ulong[] { 1, 2, old.Value });

        await cluster.StopNodeAsync(3);
        Directory.Delete(cluster.Configs.Single(c => c.PeerId == 3).DataDir, recursive: true);
        await cluster.StartNodeAsync(3);

        // Watched throughout: node 3 never runs the meta group under the lost id, and once nodes 1 and 2 have applied the
        // removal of the lost id, it is never a voter there again.
        using var stop = new CancellationTokenSource();
        var watcher = Task.Run(async () =>
        {
            var removedOn = new HashSet<ulong>();
            while (!stop.IsCancellationRequested)
            {
                if (cluster.Runtime(3).StatusOf(metaGroup) is { } three)
                    three.NodeId.Should().Be(replacement.Value, "node 3 runs the meta group only as its new incarnation");
                foreach (ulong node in new ulong[] { 1, 2 })
                {
                    if (cluster.Runtime(node).StatusOf(metaGroup) is not { } status)
                        continue;
                    if (!status.Members.Voters.Contains(old.Value))
                        removedOn.Add(node);
                    else
                        removedOn.Should().NotContain(node, $"node {node}'s meta replica applied the removal of {old}; the lost id never votes again");
                }
                await Task.Delay(20);
            }
        });
        await cluster.WaitUntilAsync(1, r => r.ShardMaps!.MetaGroup is { } meta && meta.Replicas.Contains(3UL) && meta.Learners.Count == 0 && meta.ReplicaIdOf(3) == replacement,
            TimeSpan.FromSeconds(120), $"the map lists node 3 as a meta voter again, as replica {replacement}");
        foreach (ulong node in new ulong[] { 1, 2, 3 })
            await cluster.WaitUntilAsync(node, r => r.StatusOf(metaGroup) is { } s && s.Members.Voters.Order().SequenceEqual(new[] { 1UL, 2UL, replacement.Value }.Order()) && s.Members.Learners.Count == 0,
                TimeSpan.FromSeconds(30), $"node {node}'s meta replica has the three voters 1, 2 and {replacement}");
        stop.Cancel();
        await watcher;

        // Three working voters: with node 2 stopped, a meta write needs the new incarnation's vote and acknowledgement.
        await cluster.StopNodeAsync(2);
        var router = cluster.Runtime(1).Router!;
        var metaInfo = cluster.Runtime(1).ShardMaps!.Group(metaGroup);
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await router.MetaPutAsync(metaInfo, "test/after-wipe"u8.ToArray(), "committed"u8.ToArray(), deadline.Token);
        var read = await router.MetaGetAsync(metaInfo, "test/after-wipe"u8.ToArray(), stale: false, deadline.Token);
        Encoding.UTF8.GetString(read!.Value.Value).Should().Be("committed");
        cluster.Runtime(3).StatusOf(metaGroup)!.Members.Voters.Should().Contain(replacement.Value);
    }

    [Fact]
    public async Task The_replicas_of_a_node_down_longer_than_the_timeout_are_re_created_on_the_other_nodes()
    {
        await using var cluster = await InProcessCluster.StartAsync(4, shardsPerNode: 1, c => c with { DownReplicaTimeout = TimeSpan.FromSeconds(10) });
        await cluster.WaitUntilReadyAsync();
        using var n1 = cluster.ClientFor(1);
        for (int i = 0; i < 40; i++)
            (await n1.PutAsync($"/v1/kv/d{i:D2}", new ByteArrayContent(Encoding.UTF8.GetBytes($"v{i}")))).EnsureSuccessStatusCode();

        await cluster.WaitUntilAsync(1, r => r.BuildClusterView().Settings is not null, TimeSpan.FromSeconds(10), "node 1 read the cluster settings");
        var settings = JsonSerializer.Deserialize<ClusterView>(await n1.GetStringAsync("/v1/cluster"), LsmRaft.Client.Wire.WireJson.Lenient)!.Settings;
        settings.Should().Be(new ClusterSettings(DownReplicaTimeoutSeconds: 10, Rebalance: true), "the meta group holds the bootstrap node's settings");

        await cluster.StopNodeAsync(4);
        // Normally 15-25 s (10 s until node 4 counts as down, then three moves one at a time); the deadline leaves
        // room for a CI machine running other clusters at once, and a timeout prints every node's view of the map.
        await cluster.WaitUntilAsync(1, r => r.BuildClusterView().Shards.All(s => !s.Replicas.Contains(4UL) && s.Replicas.Count == 3 && s.Learners.Count == 0),
            TimeSpan.FromSeconds(150), "every replica of node 4 is re-created on nodes 1-3");
        foreach (var shard in await ShardsAsync(n1))
            shard.Replicas.Should().BeEquivalentTo(new ulong[] { 1, 2, 3 });
        for (int i = 0; i < 40; i++)
            (await GetAsync(cluster.ClientFor(2), $"d{i:D2}", "linearizable")).Should().Be($"v{i}");
    }

    [Fact]
    public async Task A_learner_that_a_failed_move_left_behind_is_removed_and_rebalancing_continues()
    {
        // Repair of down nodes off (10 min): this test checks the learner left behind, not the re-creation of node 4's replicas.
        await using var cluster = await InProcessCluster.StartAsync(4, shardsPerNode: 1, c => c with { DownReplicaTimeout = TimeSpan.FromMinutes(10) });
        await cluster.WaitUntilReadyAsync();
        using var n1 = cluster.ClientFor(1);
        for (int i = 0; i < 40; i++)
            (await n1.PutAsync($"/v1/kv/l{i:D2}", new ByteArrayContent(Encoding.UTF8.GetBytes($"v{i}")))).EnsureSuccessStatusCode();
        var shard = (await ShardsAsync(n1)).First(s => !s.Replicas.Contains(4UL));

        // The move's target is down and the move stops (cancelled, as by its deadline) once the map lists node 4 as
        // a learner, before it waits for node 4 to catch up: the learner stays listed (in the map, and in the group
        // when the AddLearner got through), and only the placement driver removes it.
        await cluster.StopNodeAsync(4);
        using var stop = new CancellationTokenSource();
        var failedMove = cluster.Runtime(1).Mover!.MoveAsync(shard.Id, shard.Replicas[0], 4, stop.Token);
        await cluster.WaitUntilAsync(1, r => r.BuildClusterView().Shards.Single(s => s.Id == shard.Id).Learners.Contains(4UL),
            TimeSpan.FromSeconds(30), "the move lists node 4 as a learner");
        stop.Cancel();
        await FluentActions.Awaiting(() => failedMove).Should().ThrowAsync<Exception>("its target is down");

        await cluster.WaitUntilAsync(1, r => r.BuildClusterView().Shards.All(s => s.Learners.Count == 0), TimeSpan.FromSeconds(60),
            "the placement driver removes the learner of down node 4");
        var current = cluster.Runtime(1).BuildClusterView().Shards.Single(s => s.Id == shard.Id);
        var progress = await cluster.Runtime(1).Router!.GetProgressAsync(current, 4, 64, CancellationToken.None);
        progress.Learners.Should().BeEmpty("the learner was removed by a membership change of the group");
        progress.Voters.Should().BeEquivalentTo(shard.Replicas);

        await cluster.StartNodeAsync(4);
        await cluster.WaitUntilAsync(1, r => r.BuildClusterView().Nodes.Any(n => n.Id == 4 && n.State == NodeState.Up), TimeSpan.FromSeconds(30), "node 4 is up again");
        await cluster.WaitUntilAsync(4, r => r.IsReady, TimeSpan.FromSeconds(30), "node 4 is ready");
        Directory.Exists(Path.Combine(cluster.Configs.Single(c => c.PeerId == 4).DataDir, "groups", shard.Id.ToString()))
            .Should().BeFalse("node 4 holds no replica of a shard it is no longer a learner of");

        // Unbalance the cluster (node `to` four replicas, node 4 two): rebalancing, no longer held up by a learner, evens it out.
        using var n2 = cluster.ClientFor(2);
        var other = (await ShardsAsync(n2)).First(s => s.Replicas.Contains(4UL));
        ulong to = new ulong[] { 1, 2, 3 }.First(n => !other.Replicas.Contains(n));
        var move = await n2.PostAsync($"/v1/admin/shards/{other.Id}/move", new StringContent($"{{\"from\":4,\"to\":{to}}}", Encoding.UTF8, "application/json"));
        move.StatusCode.Should().Be(HttpStatusCode.Accepted, await move.Content.ReadAsStringAsync());
        await cluster.WaitUntilAsync(1, r => r.BuildClusterView() is var view && view.Shards.All(s => s.Learners.Count == 0)
                && new ulong[] { 1, 2, 3, 4 }.All(n => view.Shards.Count(s => s.Replicas.Contains(n)) == 3),
            TimeSpan.FromSeconds(90), "rebalancing gives node 4 a third replica again");
        for (int i = 0; i < 40; i++)
            (await GetAsync(cluster.ClientFor(4), $"l{i:D2}", "linearizable")).Should().Be($"v{i}");
    }

    [Fact]
    public async Task A_move_whose_target_goes_down_ends_with_a_conflict_and_leaves_no_learner()
    {
        await using var cluster = await InProcessCluster.StartAsync(4, shardsPerNode: 1, c => c with { DownReplicaTimeout = TimeSpan.FromMinutes(10), Rebalance = false });
        await cluster.WaitUntilReadyAsync();
        var shard = (await ShardsAsync(cluster.ClientFor(1))).First(s => !s.Replicas.Contains(4UL));

        // Node 4 never catches up; once it counts as down (5 s without a heartbeat) the move removes its learner and
        // ends, instead of waiting out its 5-minute deadline.
        await cluster.StopNodeAsync(4);
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await FluentActions.Awaiting(() => cluster.Runtime(1).Mover!.MoveAsync(shard.Id, shard.Replicas[0], 4, deadline.Token))
            .Should().ThrowAsync<LsmRaft.Host.Api.OperationConflictException>();
        await cluster.WaitUntilAsync(1, r => r.BuildClusterView().Shards.All(s => s.Learners.Count == 0), TimeSpan.FromSeconds(30), "no learner is listed");
        var progress = await cluster.Runtime(1).Router!.GetProgressAsync(cluster.Runtime(1).BuildClusterView().Shards.Single(s => s.Id == shard.Id), 4, 64, CancellationToken.None);
        progress.Learners.Should().BeEmpty();
        progress.Voters.Should().BeEquivalentTo(shard.Replicas);
    }

    [Fact]
    public async Task A_move_does_not_promote_a_learner_whose_node_cannot_confirm_the_log_the_leader_counts_for_it()
    {
        // A move stopped after its learner on node 4 caught up and before the promotion; then node 4 stops and its
        // replica's directory is lost. The leader still holds the learner's old match (nothing told it otherwise), so
        // continuing the move must not promote on it: the target's own node has to confirm it holds that log
        // (docs/raft.md, "Replica identity"). It cannot, so the move ends once node 4 counts as down, its learner removed.
        await using var cluster = await InProcessCluster.StartAsync(4, shardsPerNode: 1, c => c with { DownReplicaTimeout = TimeSpan.FromMinutes(10), Rebalance = false });
        await cluster.WaitUntilReadyAsync();
        using var n1 = cluster.ClientFor(1);
        for (int i = 0; i < 20; i++)
            (await n1.PutAsync($"/v1/kv/p{i:D2}", new ByteArrayContent(Encoding.UTF8.GetBytes($"v{i}")))).EnsureSuccessStatusCode();
        var shard = (await ShardsAsync(n1)).First(s => !s.Replicas.Contains(4UL));
        var runtime = cluster.Runtime(1);
        var router = runtime.Router!;
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(120));

        // The move's first steps, by hand: the map lists node 4 as a learner under a new incarnation, the group adds it,
        // and it catches up.
        await runtime.ShardMaps!.UpdateAsync(map => map.WithGroup(map.Group(shard.Id).AllocateIncarnation(4)), deadline.Token);
        var learner = runtime.ShardMaps.Group(shard.Id).ReplicaIdOf(4);
        learner.Should().Be(new ReplicaId(4, 1));
        await router.ChangeMembershipAsync(runtime.ShardMaps.Group(shard.Id), LsmRaft.Protocol.Peer.MembershipChange.AddLearner, learner.Value, deadline.Token);
        for (int i = 0; i < 300 && !(await router.GetProgressAsync(runtime.ShardMaps.Group(shard.Id), learner.Value, 64, deadline.Token)).CaughtUp; i++)
            await Task.Delay(100); // bounded: the learner installs a snapshot, then the log
        var before = await router.GetProgressAsync(runtime.ShardMaps.Group(shard.Id), learner.Value, 64, deadline.Token);
        before.CaughtUp.Should().BeTrue("node 4's learner caught up");

        await cluster.StopNodeAsync(4);
        Directory.Delete(Path.Combine(cluster.Configs.Single(c => c.PeerId == 4).DataDir, "groups", shard.Id.ToString()), recursive: true);
        (await router.GetProgressAsync(runtime.ShardMaps.Group(shard.Id), learner.Value, 64, deadline.Token)).CaughtUp
            .Should().BeTrue("the leader still counts the lost learner as caught up: this is the stale match");

        await FluentActions.Awaiting(() => runtime.Mover!.MoveAsync(shard.Id, shard.Replicas[0], 4, deadline.Token))
            .Should().ThrowAsync<LsmRaft.Host.Api.OperationConflictException>("node 4 cannot confirm the log; once it is down its learner is removed");
        var after = await router.GetProgressAsync(runtime.ShardMaps.Group(shard.Id), learner.Value, 64, deadline.Token);
        after.Voters.Should().BeEquivalentTo(shard.Replicas, "the learner was never promoted");
        after.Learners.Should().BeEmpty();
        runtime.ShardMaps.Group(shard.Id).IsOn(4).Should().BeFalse();
    }

    [Fact]
    public async Task A_node_joins_a_running_cluster_through_one_member_and_receives_replicas_by_rebalancing()
    {
        await using var cluster = await InProcessCluster.StartAsync(3, shardsPerNode: 1);
        await cluster.WaitUntilReadyAsync();
        using var n1 = cluster.ClientFor(1);
        for (int i = 0; i < 30; i++)
            (await n1.PutAsync($"/v1/kv/j{i:D2}", new ByteArrayContent(Encoding.UTF8.GetBytes($"v{i}")))).EnsureSuccessStatusCode();

        await cluster.JoinNodeAsync(4, through: 2);
        await cluster.WaitUntilAsync(1, r => r.BuildClusterView().Nodes.Any(n => n.Id == 4 && n.State == NodeState.Up),
            TimeSpan.FromSeconds(30), "node 1 sees node 4 up");
        // 3 shards x 3 replicas over 4 nodes: rebalancing stops at counts 3/2/2/2, node 4 holding 2.
        await cluster.WaitUntilAsync(1, r => r.BuildClusterView().Shards.Count(s => s.Replicas.Contains(4UL)) == 2 && r.BuildClusterView().Shards.All(s => s.Learners.Count == 0),
            TimeSpan.FromSeconds(60), "node 4 holds two replicas");
        await cluster.WaitUntilAsync(4, r => r.IsReady, TimeSpan.FromSeconds(30), "node 4 is ready");
        using var n4 = cluster.ClientFor(4);
        for (int i = 0; i < 30; i++)
            (await GetAsync(n4, $"j{i:D2}", "linearizable")).Should().Be($"v{i}");
        (await n4.PutAsync("/v1/kv/from-joined", new ByteArrayContent("x"u8.ToArray()))).EnsureSuccessStatusCode();
        (await GetAsync(cluster.ClientFor(3), "from-joined", "linearizable")).Should().Be("x");

        // The joined node restarts from its own data directory, without --join's help from PEERS.
        await cluster.StopNodeAsync(4);
        await cluster.StartNodeAsync(4);
        await cluster.WaitUntilAsync(4, r => r.IsReady, TimeSpan.FromSeconds(30), "node 4 is ready after its restart");
        (await GetAsync(cluster.ClientFor(4), "j07", "linearizable")).Should().Be("v7");
    }

    /// <summary>The value, or null while the key is not there (yet).</summary>
    private static async Task<string?> TryGetAsync(HttpClient client, string key, string consistency)
    {
        using var get = new HttpRequestMessage(HttpMethod.Get, $"/v1/kv/{key}?consistency={consistency}");
        get.Headers.Accept.ParseAdd("application/octet-stream");
        using var response = await client.SendAsync(get);
        return response.StatusCode == HttpStatusCode.OK ? await response.Content.ReadAsStringAsync() : null;
    }

    private static async Task<string> GetAsync(HttpClient client, string key, string consistency)
    {
        var get = new HttpRequestMessage(HttpMethod.Get, $"/v1/kv/{key}?consistency={consistency}");
        get.Headers.Accept.ParseAdd("application/octet-stream");
        var response = await client.SendAsync(get);
        response.StatusCode.Should().Be(HttpStatusCode.OK, $"{key}: {await response.Content.ReadAsStringAsync()}");
        return await response.Content.ReadAsStringAsync();
    }

    private static async Task<List<ShardInfo>> ShardsAsync(HttpClient client)
    {
        var view = JsonSerializer.Deserialize<ClusterView>(await client.GetStringAsync("/v1/cluster"), LsmRaft.Client.Wire.WireJson.Lenient)!;
        return view.Shards.OrderBy(s => s.Id).ToList();
    }
}
