using System.Net;
using System.Text;
using System.Text.Json;
using LsmRaft.Protocol.Cluster;
using LsmRaft.Tests.Shared;

namespace LsmRaft.MultiNode.Tests;

/// <summary>
/// deploy/docker-compose.yml — the origin's three <c>docker run</c> commands — run as three <c>lsmraft start</c>
/// processes with exactly each service's environment, except what only a container provides: the host names n1..n3
/// are mapped to 127.0.0.1 (LSMRAFT_HOSTS), the published ports are replaced by free ones (in PORT, HTTP_PORT and
/// PEERS alike), and DATA_DIR points at a temporary directory instead of the /data volume.
/// </summary>
public sealed class OriginComposeTests : IDisposable
{
    private const string NoSecretWarning = "No cluster secret is set";
    private readonly ProcessCluster<string> _cluster = new("lsmraft-origin", name => name);
    private readonly IReadOnlyList<ComposeService> _services;

    public OriginComposeTests()
    {
        _services = ComposeFile.ReadServices(Path.Combine(LsmraftBinary.RepositoryRoot(), "deploy", "docker-compose.yml"));
        // Every port the compose file uses (each node's PORT and HTTP_PORT) gets a free loopback port.
        var originPorts = _services.SelectMany(s => new[] { int.Parse(s.Env("PORT")), int.Parse(s.Env("HTTP_PORT")) }).ToList();
        var free = LoopbackPorts.FreeNodePorts(originPorts.Count / 2); // each PORT, HTTP_PORT pair, with PORT + 10000 free for Akka
        var portMap = originPorts.Select((p, i) => (p, free[i])).ToDictionary(x => x.p, x => x.Item2);
        var hosts = string.Join(",", _services.Select(s => $"{s.Name}=127.0.0.1"));
        foreach (var service in _services)
        {
            var env = service.Environment.ToDictionary(e => e.Key, e => e.Value);
            env["PORT"] = portMap[int.Parse(env["PORT"])].ToString();
            env["HTTP_PORT"] = portMap[int.Parse(env["HTTP_PORT"])].ToString();
            env["PEERS"] = string.Join(",", env["PEERS"].Split(',').Select(entry =>
            {
                int colon = entry.LastIndexOf(':');
                return $"{entry[..colon]}:{portMap[int.Parse(entry[(colon + 1)..])]}";
            }));
            env["LSMRAFT_HOSTS"] = hosts;
            env["DATA_DIR"] = Path.Combine(_cluster.Root, service.Name);
            env["DOTNET_gcServer"] = "0"; // a shared 2-core test machine; not a setting of the node
            _cluster.Configure(service.Name, env);
        }
    }

    [Fact]
    public void The_compose_file_holds_the_origins_commands_verbatim()
    {
        _services.Select(s => s.Name).Should().Equal("n1", "n2", "n3");
        for (int i = 1; i <= 3; i++)
        {
            var service = _services[i - 1];
            service.Environment.Should().Equal(new Dictionary<string, string>
            {
                ["PEER_ID"] = $"n{i}",
                ["PORT"] = $"876{i}",
                ["HTTP_PORT"] = $"808{i}",
                ["GROUP_ID"] = "3fa85f64-5717-4562-b3fc-2c963f66afa6",
                ["PEERS"] = "n1:n1:8761,n2:n2:8762,n3:n3:8763",
                ["FLUSH_THRESHOLD_BYTES"] = "1024",
                ["BLOOM_FPP"] = "0.02",
                ["BLOOM_HASH_FUNCS"] = "2",
            });
            service.Ports.Should().Equal($"876{i}:876{i}", $"808{i}:808{i}");
        }
    }

    [Fact]
    public async Task The_origins_three_nodes_serve_survive_kill_9_of_n1_and_n1_serves_everything_after_its_restart()
    {
        foreach (var service in _services)
            _cluster.Start(service.Name);
        await _cluster.WaitReadyAsync("n1", "n2", "n3");
        foreach (var (name, node) in _cluster.Nodes)
            node.CountLines(NoSecretWarning).Should().Be(1, $"{name} warns once that the peer port is protected by the group id only\n{Diagnostics()}");

        using (var n1 = Client("n1"))
            for (int i = 0; i < 90; i++)
            {
                var put = await n1.PutAsync($"/v0/entity?id=origin-{i}", new ByteArrayContent(Encoding.UTF8.GetBytes($"value-{i}")));
                put.StatusCode.Should().Be(HttpStatusCode.Created, $"PUT origin-{i} through n1: {await put.Content.ReadAsStringAsync()}\n{Diagnostics()}");
            }
        await ExpectAsync("n3", Enumerable.Range(0, 90).Select(i => ($"origin-{i}", $"value-{i}")));
        using (var n3 = Client("n3"))
        {
            (await n3.GetAsync("/v0/entity")).StatusCode.Should().Be(HttpStatusCode.BadRequest, "a missing id is 400");
            (await n3.GetAsync("/v0/entity?id=")).StatusCode.Should().Be(HttpStatusCode.BadRequest, "an empty id is 400");
            (await n3.GetAsync("/v0/entity?id=never-written")).StatusCode.Should().Be(HttpStatusCode.NotFound);
            using var view = JsonDocument.Parse(await n3.GetStringAsync("/v1/cluster"));
            view.RootElement.GetProperty("nodes").EnumerateArray().Select(n => (n.GetProperty("name").GetString(), n.GetProperty("id").GetUInt64()))
                .Should().BeEquivalentTo(new[] { ("n1", NodeIds.FromName("n1")), ("n2", NodeIds.FromName("n2")), ("n3", NodeIds.FromName("n3")) });
        }

        _cluster["n1"].Kill();
        await ExpectAsync("n3", Enumerable.Range(0, 90).Select(i => ($"origin-{i}", $"value-{i}")));
        using (var n2 = Client("n2"))
            for (int i = 0; i < 10; i++)
            {
                var put = await n2.PutAsync($"/v0/entity?id=after-{i}", new ByteArrayContent(Encoding.UTF8.GetBytes($"later-{i}")));
                put.StatusCode.Should().Be(HttpStatusCode.Created, $"PUT after-{i} through n2 with n1 down: {await put.Content.ReadAsStringAsync()}\n{Diagnostics()}");
            }

        _cluster.Start("n1");
        await _cluster.WaitReadyAsync("n1");
        await ExpectAsync("n1", Enumerable.Range(0, 90).Select(i => ($"origin-{i}", $"value-{i}"))
            .Concat(Enumerable.Range(0, 10).Select(i => ($"after-{i}", $"later-{i}"))));

        // docker stop: SIGTERM, and the node exits 0 after its graceful stop.
        foreach (var name in new[] { "n3", "n2", "n1" })
        {
            _cluster[name].Terminate();
            (await _cluster[name].WaitForExitAsync(TimeSpan.FromSeconds(45))).Should().BeTrue($"{name} stops within its shutdown timeout\n{Diagnostics()}");
            _cluster[name].ExitCode.Should().Be(0, $"{name} stopped gracefully on SIGTERM\n{Diagnostics()}");
        }
    }

    [Fact]
    public async Task A_bad_configuration_makes_start_exit_non_zero_naming_the_setting()
    {
        var env = new Dictionary<string, string>(_cluster.Environment("n1")) { ["FLUSH_THRESHOLD_BYTES"] = "0", ["PEER_ID"] = "n4" };
        using var node = new NodeProcess(_cluster.Dll, env);
        (await node.WaitForExitAsync(TimeSpan.FromSeconds(60))).Should().BeTrue("an invalid configuration stops the node before it starts");
        node.ExitCode.Should().Be(2, node.Output);
        node.CountLines("FLUSH_THRESHOLD_BYTES (--flush-threshold-bytes) is 0: expected a byte count from 1 to").Should().Be(1, node.Output);
        node.CountLines("PEER_ID (--peer-id) is n4, which PEERS does not list; PEERS has ids n1, n2, n3").Should().Be(1, node.Output);
    }

    private HttpClient Client(string name) => _cluster.Client(name);

    private string Diagnostics() => _cluster.Diagnostics();

    /// <summary>
    /// GET /v0/entity of each key once: the node routes to the shard's leader and, while one is being elected, retries
    /// within its own request deadline, so no retry loop is needed here.
    /// </summary>
    private async Task ExpectAsync(string name, IEnumerable<(string Key, string Value)> expected)
    {
        using var client = Client(name);
        foreach (var (key, value) in expected)
        {
            var response = await client.GetAsync($"/v0/entity?id={key}");
            response.StatusCode.Should().Be(HttpStatusCode.OK, $"GET {key} through {name}: {await response.Content.ReadAsStringAsync()}\n{Diagnostics()}");
            (await response.Content.ReadAsStringAsync()).Should().Be(value);
        }
    }

    public void Dispose() => _cluster.Dispose();
}
