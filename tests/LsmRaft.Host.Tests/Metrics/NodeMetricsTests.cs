using System.Text;
using LsmRaft.Host.Tests.Cluster;
using LsmRaft.Host.Tests.Support;

namespace LsmRaft.Host.Tests.Metrics;

/// <summary>GET /metrics on a real three-node cluster in one process: the names and labels exist, move under load, and stay per node.</summary>
public sealed class NodeMetricsTests
{
    [Fact]
    public async Task Every_node_serves_its_own_raft_storage_transport_cluster_and_http_metrics_and_they_move_under_writes()
    {
        await using var cluster = await InProcessCluster.StartAsync(3);
        await cluster.WaitUntilReadyAsync();
        // Readiness does not wait for every node's heartbeat to reach the registry, which the membership gauge reads.
        foreach (ulong id in new ulong[] { 1, 2, 3 })
            await cluster.WaitUntilAsync(id, r => r.BuildClusterView().Nodes.All(n => n.State == LsmRaft.Protocol.Cluster.NodeState.Up),
                TimeSpan.FromSeconds(30), $"node {id} sees every node up");
        var clients = new ulong[] { 1, 2, 3 }.ToDictionary(id => id, cluster.ClientFor);
        var before = new Dictionary<ulong, PrometheusScrape>();
        foreach (var (id, client) in clients)
            before[id] = await PrometheusScrape.GetAsync(client);

        const int writes = 40;
        for (int i = 0; i < writes; i++)
            (await clients[1].PutAsync($"/v1/kv/metrics-{i}", new ByteArrayContent(Encoding.UTF8.GetBytes($"value-{i}")))).EnsureSuccessStatusCode();
        (await clients[1].GetAsync("/v1/kv/metrics-0")).EnsureSuccessStatusCode();

        var after = new Dictionary<ulong, PrometheusScrape>();
        foreach (var (id, client) in clients)
            after[id] = await PrometheusScrape.GetAsync(client);

        foreach (var (id, scrape) in after)
        {
            string node = id.ToString();
            // Each node exports only its own series: several nodes share this process, and so the meters' names.
            scrape.Samples.Where(s => s.Name != "target_info").Should().OnlyContain(s => s.Labels.ContainsKey("node") && s.Labels["node"] == node,
                $"node {id}'s scrape holds only node {id}'s series");
            scrape.Sum("lsmraft_raft_committed_total").Should().BeGreaterThan(before[id].Sum("lsmraft_raft_committed_total"), $"node {id} applied the writes");
            scrape.Sum("lsmraft_nodelog_fsync_duration_seconds_count").Should().BeGreaterThan(before[id].Sum("lsmraft_nodelog_fsync_duration_seconds_count"));
            scrape.Sum("lsmraft_nodelog_append_duration_seconds_count").Should().BeGreaterThan(0);
            scrape.Find("lsmraft_nodelog_batch_requests_bucket").Should().Contain(s => s.Labels["le"] == "+Inf");
            scrape.Sum("lsmraft_nodelog_batch_size_bytes_sum").Should().BeGreaterThan(0);
            scrape.Sum("lsmraft_raft_replicas").Should().Be(cluster.Runtime(id).BuildClusterView().Shards.Count(s => s.Replicas.Contains(id)) + 1, "every shard replica here plus the meta group's");
            scrape.Sum("lsmraft_cluster_nodes", ("state", "up")).Should().Be(3);
            scrape.Sum("lsmraft_cluster_nodes", ("state", "down")).Should().Be(0);
            scrape.Sum("lsmraft_storage_written_bytes_total", ("kind", "user")).Should().BeGreaterThan(before[id].Sum("lsmraft_storage_written_bytes_total", ("kind", "user")));
            scrape.Sum("lsmraft_storage_engines").Should().Be(scrape.Sum("lsmraft_raft_replicas"));
            scrape.Find("lsmraft_storage_level_size_bytes").Should().Contain(s => s.Labels["level"] == "0");
            scrape.Sum("lsmraft_storage_memtable_size_bytes").Should().BeGreaterThan(0);
            scrape.Sum("lsmraft_process_pause_seconds_count").Should().BeGreaterThan(0, "the pause detector wakes every 100 ms");
            scrape.Find("lsmraft_process_pause_max_seconds").Should().ContainSingle();
            scrape.Sum("lsmraft_process_gc_collections_total", ("generation", "gen0")).Should().BeGreaterThan(0);
            scrape.Find("lsmraft_process_gc_pause_seconds_total").Should().ContainSingle();
            foreach (ulong peer in clients.Keys.Where(p => p != id))
            {
                scrape.Sum("lsmraft_transport_messages_total", ("peer", peer.ToString()), ("direction", "sent")).Should().BeGreaterThan(0);
                scrape.Sum("lsmraft_transport_bytes_total", ("peer", peer.ToString()), ("direction", "received")).Should().BeGreaterThan(0);
            }
        }

        // Writes become proposals on the shards' leaders, wherever they are; every group has one leader.
        double proposals = after.Values.Sum(s => s.Total("lsmraft_raft_proposals_total", ("result", "ok"))) - before.Values.Sum(s => s.Total("lsmraft_raft_proposals_total", ("result", "ok")));
        proposals.Should().BeGreaterThanOrEqualTo(writes);
        after.Values.Sum(s => s.Total("lsmraft_raft_leaders")).Should().Be(cluster.Runtime(1).BuildClusterView().Shards.Count + 1);
        after.Values.Sum(s => s.Total("lsmraft_raft_elections_total")).Should().BeGreaterThan(0, "the bootstrap elected every group's first leader");
        after.Values.Sum(s => s.Total("lsmraft_raft_leader_changes_total")).Should().BeGreaterThan(0);

        // ASP.NET Core's request histogram, by route, method and status.
        after[1].Sum("http_server_request_duration_seconds_count", ("http_route", "/v1/kv/{key}"), ("http_request_method", "PUT"), ("http_response_status_code", "200"))
            .Should().BeGreaterThanOrEqualTo(writes);
        after[1].Find("http_server_request_duration_seconds_bucket", ("http_route", "/v1/kv/{key}"), ("http_request_method", "GET")).Should().NotBeEmpty();

        // The Grafana dashboard queries only metrics the nodes export (those counted on rare events aside: no snapshot
        // was sent and no request refused in this run, and a counter's series appears with its first event).
        var exported = after.Values.SelectMany(s => s.Samples).Select(s => s.Name).ToHashSet();
        string[] eventOnly = ["lsmraft_raft_snapshots_total", "lsmraft_api_rejections_total"];
        var queried = System.Text.RegularExpressions.Regex.Matches(File.ReadAllText(DashboardPath()), @"\b(lsmraft|http_server)_[a-z0-9_]+")
            .Select(m => m.Value).Distinct().ToList();
        queried.Should().HaveCountGreaterThan(20);
        queried.Except(eventOnly).Should().OnlyContain(name => exported.Contains(name), "every metric the dashboard queries is exported");
    }

    private static string DashboardPath()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "LsmRaft.sln")))
            dir = dir.Parent;
        dir.Should().NotBeNull("the tests run inside the repository");
        return Path.Combine(dir!.FullName, "deploy", "grafana", "lsmraft-dashboard.json");
    }
}
