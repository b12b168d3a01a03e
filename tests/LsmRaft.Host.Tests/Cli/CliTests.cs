using System.Text.Json;
using LsmRaft.Host.Api;
using LsmRaft.Host.Cli;
using LsmRaft.Host.Config;
using LsmRaft.Host.Tests.Support;

namespace LsmRaft.Host.Tests.Cli;

/// <summary>The command line run in-process: parsing, exit codes, and client commands against an in-process API.</summary>
public sealed class CliTests : IAsyncLifetime
{
    private ApiHost _host = null!;

    public async Task InitializeAsync() =>
        _host = await ApiHost.StartAsync(services: s => s.AddSingleton<IClusterAdmin>(sp => new RecordingClusterAdmin((EngineKvService)sp.GetRequiredService<IKvService>())));

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private sealed record Outcome(int ExitCode, string Out, string Error);

    private async Task<Outcome> RunAsync(string[] args, INodeRunner? runner = null, Dictionary<string, string?>? env = null, HttpMessageHandler? handler = null)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var context = new CliContext(stdout, stderr, env ?? [], InContainer: false, runner, handler ?? _host.Server.CreateHandler());
        int code = await RootCommandFactory.InvokeAsync(args, context, CancellationToken.None);
        return new Outcome(code, stdout.ToString(), stderr.ToString());
    }

    private sealed class RecordingRunner : INodeRunner
    {
        public NodeConfig? Config { get; private set; }
        public DemoOptions? Demo { get; private set; }

        public Task<int> RunAsync(NodeConfig config, CancellationToken cancellationToken)
        {
            Config = config;
            return Task.FromResult(0);
        }

        public Task<int> RunDemoAsync(DemoOptions options, CancellationToken cancellationToken)
        {
            Demo = options;
            return Task.FromResult(0);
        }
    }

    /// <summary>A transport whose peer never answers (until the request is cancelled).</summary>
    private sealed class SilentHandler : HttpMessageHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            throw new InvalidOperationException("unreachable: the delay above ends only by cancellation");
        }
    }

    /// <summary>A transport with nobody listening.</summary>
    private sealed class RefusingHandler : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            throw new HttpRequestException(HttpRequestError.ConnectionError, "Connection refused (127.0.0.1:8081)");
    }

    [Fact]
    public async Task Start_with_invalid_settings_lists_every_problem_and_exits_2()
    {
        var runner = new RecordingRunner();
        var result = await RunAsync(["start", "--port", "99999", "--bloom-fpp", "0.9"], runner, new() { ["PEERS"] = "1:a:8080,oops" });

        result.ExitCode.Should().Be(2);
        result.Error.Should().Contain("invalid configuration").And.Contain("PEERS (environment) entry 'oops' is invalid");
        runner.Config.Should().BeNull();
    }

    [Fact]
    public async Task Start_validation_errors_name_range_problems()
    {
        var result = await RunAsync(["start", "--port", "99999", "--bloom-fpp", "0.9"], new RecordingRunner());

        result.ExitCode.Should().Be(2);
        result.Error.Should().Contain("PORT (--port) is 99999").And.Contain("BLOOM_FPP (--bloom-fpp) is 0.9");
    }

    [Fact]
    public async Task Start_without_a_node_runtime_exits_3_with_a_clear_message()
    {
        var result = await RunAsync(["start"]);

        result.ExitCode.Should().Be(3);
        result.Error.Should().Contain("node runtime is not available in this build");
    }

    [Fact]
    public async Task Start_passes_the_merged_configuration_to_the_runner_with_flags_over_environment()
    {
        var runner = new RecordingRunner();
        var result = await RunAsync(
            ["start", "--http-port", "9001", "--shards", "2", "--insecure-dev", "--peers", "1:127.0.0.1:9000,2:127.0.0.1:9002"],
            runner,
            new() { ["HTTP_PORT"] = "7001", ["PORT"] = "9000", ["DATA_DIR"] = "/tmp/n1" });

        result.ExitCode.Should().Be(0, result.Error);
        runner.Config!.HttpPort.Should().Be(9001);
        runner.Config.Port.Should().Be(9000);
        runner.Config.DataDir.Should().Be("/tmp/n1");
        runner.Config.Shards.Should().Be(2);
        runner.Config.InsecureDev.Should().BeTrue();
        runner.Config.Peers.Should().HaveCount(2);
    }

    [Fact]
    public async Task Start_dry_run_prints_the_effective_settings_with_secrets_masked()
    {
        var result = await RunAsync(["start", "--dry-run", "--cluster-secret", "very-secret-value-123", "--http-port", "9999"]);

        result.ExitCode.Should().Be(0, result.Error);
        var json = JsonDocument.Parse(result.Out).RootElement;
        json.GetProperty("httpPort").GetInt32().Should().Be(9999);
        json.GetProperty("clusterSecret").GetString().Should().Be("(set)");
        result.Out.Should().NotContain("very-secret-value-123");
    }

    [Fact]
    public async Task Demo_hands_a_three_node_loopback_cluster_to_the_runner()
    {
        var runner = new RecordingRunner();
        var result = await RunAsync(["demo", "--base-port", "18080"], runner);

        result.ExitCode.Should().Be(0, result.Error);
        runner.Demo!.Nodes.Should().Be(3);
        runner.Demo.BindAddress.Should().Be("127.0.0.1");
        runner.Demo.ClusterSecret.Length.Should().BeGreaterThanOrEqualTo(16);
        var (configs, errors) = runner.Demo.BuildNodeConfigs();
        errors.Should().BeEmpty();
        configs.Select(c => (c.PeerId, c.Port, c.HttpPort)).Should().Equal((1UL, 18080, 18081), (2UL, 18082, 18083), (3UL, 18084, 18085));
        configs.Should().OnlyContain(c => c.Peers.Count == 3 && c.DataDir.StartsWith("./data") && c.EffectiveReplicationFactor == 3);
        runner.Demo.HttpEndpoints().Select(u => u.Port).Should().Equal(18081, 18083, 18085);
    }

    [Fact]
    public async Task Demo_with_bad_options_exits_2_and_without_runtime_exits_3()
    {
        (await RunAsync(["demo", "--nodes", "0"], new RecordingRunner())).ExitCode.Should().Be(2);
        (await RunAsync(["demo", "--base-port", "65534"], new RecordingRunner())).ExitCode.Should().Be(2);
        (await RunAsync(["demo"])).ExitCode.Should().Be(3);
    }

    [Theory]
    [InlineData("frobnicate")]
    [InlineData("kv", "get")]
    [InlineData("kv", "get", "k", "--bogus")]
    [InlineData("kv", "get", "k", "--consistency", "eventual")]
    [InlineData("shards", "move", "1", "--from", "1")]
    [InlineData("leader", "transfer", "x", "--to", "2")]
    public async Task Bad_usage_exits_2_with_a_hint(params string[] args)
    {
        var result = await RunAsync(args);

        result.ExitCode.Should().Be(2);
        result.Error.Should().Contain("--help");
    }

    [Fact]
    public async Task Kv_put_get_scan_and_del_work_against_a_node()
    {
        (await RunAsync(["kv", "put", "greeting", "hello"])).Should().Be(new Outcome(0, "version 1\n", ""));
        (await RunAsync(["kv", "put", "gravity", "9.8"])).ExitCode.Should().Be(0);

        (await RunAsync(["kv", "get", "greeting"])).Out.Should().Be("hello\n");
        var json = JsonDocument.Parse((await RunAsync(["kv", "get", "greeting", "--json"])).Out).RootElement;
        json.GetProperty("version").GetUInt64().Should().Be(1);

        (await RunAsync(["kv", "scan", "--prefix", "gr"])).Out.Should().Be("gravity\t9.8\ngreeting\thello\n");
        (await RunAsync(["kv", "scan", "--limit", "1"])).Out.Should().Be("gravity\t9.8\n");

        (await RunAsync(["kv", "del", "greeting"])).Should().Be(new Outcome(0, "deleted\n", ""));
    }

    [Fact]
    public async Task Kv_missing_keys_exit_1()
    {
        var get = await RunAsync(["kv", "get", "absent"]);
        get.ExitCode.Should().Be(1);
        get.Error.Should().Contain("'absent' does not exist");

        (await RunAsync(["kv", "del", "absent"])).ExitCode.Should().Be(1);
    }

    [Fact]
    public async Task Kv_binary_keys_use_base64url_and_print_binary_values_as_base64url()
    {
        (await RunAsync(["kv", "put", "AP8", "_wA", "--encoding", "base64url"])).ExitCode.Should().Be(0);

        (await _host.Service.GetAsync([0x00, 0xFF], ReadConsistency.Linearizable, default))!.Value.Should().Equal([0xFF, 0x00]);
        (await RunAsync(["kv", "get", "AP8", "--encoding", "base64url"])).Out.Should().Be("_wA\n");
    }

    [Fact]
    public async Task Kv_bad_input_exits_2_and_a_version_conflict_4_with_the_servers_or_clients_explanation()
    {
        var badKey = await RunAsync(["kv", "get", "***", "--encoding", "base64url"]);
        badKey.ExitCode.Should().Be(2);
        badKey.Error.Should().Contain("not valid base64url");

        (await RunAsync(["kv", "put", "k", "v1"])).ExitCode.Should().Be(0);
        var conflict = await RunAsync(["kv", "put", "k", "v2", "--if-version", "42"]);
        conflict.ExitCode.Should().Be(4, "a version conflict is the cluster refusing the write");
        conflict.Error.Should().Contain("current version is 1");

        (await RunAsync(["kv", "put", "k", "v2", "--if-version", "1"])).Out.Should().Be("version 2\n");
        (await RunAsync(["kv", "del", "k", "--if-version", "2"])).ExitCode.Should().Be(0);

        var endpoint = await RunAsync(["kv", "get", "k", "--endpoint", "ftp://x"]);
        endpoint.ExitCode.Should().Be(2);
        endpoint.Error.Should().Contain("--endpoint");
    }

    [Fact]
    public async Task Server_failures_and_unreachable_nodes_exit_3()
    {
        _host.Service.FailWith = new ShardUnavailableException(1, "no quorum");
        // A deadline the first answer surely beats even on a loaded machine (0.5 s did not, in a CI run with a cold
        // JIT); retries then stop once the next backoff would pass it, and the last answer is reported.
        var unavailable = await RunAsync(["kv", "get", "k", "--timeout", "5"]);
        unavailable.ExitCode.Should().Be(3);
        unavailable.Error.Should().Contain("no quorum");

        using var refusing = new RefusingHandler();
        var unreachable = await RunAsync(["kv", "get", "k"], handler: refusing);
        unreachable.ExitCode.Should().Be(3);
        unreachable.Error.Should().Contain("Could not reach");
    }

    [Fact]
    public async Task Shards_list_prints_the_shard_map()
    {
        var result = await RunAsync(["shards", "list"]);

        result.ExitCode.Should().Be(0, result.Error);
        result.Out.Should().Contain("7fffffffffffffff").And.Contain("none");
    }

    [Fact]
    public async Task Status_commands_against_a_node_without_a_runtime_exit_3_naming_the_reason()
    {
        var result = await RunAsync(["cluster", "show"]);

        result.ExitCode.Should().Be(3);
        result.Error.Should().Contain("does not offer monitoring");
    }

    [Fact]
    public async Task A_missing_deadline_answer_exits_5()
    {
        using var silent = new SilentHandler();
        var result = await RunAsync(["cluster", "show", "--timeout", "0.2"], handler: silent);

        result.ExitCode.Should().Be(5);
        result.Error.Should().Contain("deadline");
    }

    [Fact]
    public async Task Shards_split_move_and_leader_transfer_call_the_admin_endpoints()
    {
        (await RunAsync(["shards", "list"])).Out.Should().Contain("Shards");

        var split = await RunAsync(["shards", "split", "1"]);
        split.ExitCode.Should().Be(0, split.Error);
        split.Out.Should().Contain("Shard 1 split; the map (version 4) has 3 shards.");

        (await RunAsync(["shards", "move", "2", "--from", "2", "--to", "3"])).ExitCode.Should().Be(0);
        (await RunAsync(["leader", "transfer", "1", "--to", "2"])).ExitCode.Should().Be(0);

        var missing = await RunAsync(["shards", "split", "77"]);
        missing.ExitCode.Should().Be(1);
        missing.Error.Should().Contain("Shard 77 does not exist");

        var conflict = await RunAsync(["leader", "transfer", "1", "--to", "9"]);
        conflict.ExitCode.Should().Be(4);
        conflict.Error.Should().Contain("holds no replica");
    }

    /// <summary>Answers every request with one status and body (a node that is not ready).</summary>
    private sealed class FixedAnswerHandler(HttpStatusCode status, string body) : HttpMessageHandler
    {
        public List<Uri> Requests { get; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Requests.Add(request.RequestUri!);
            return Task.FromResult(new HttpResponseMessage(status) { Content = new StringContent(body) });
        }
    }

    [Fact]
    public async Task Ready_exits_0_for_a_ready_node_and_1_with_the_reason_otherwise()
    {
        var ready = await RunAsync(["ready", "--endpoint", "http://127.0.0.1:8081"]);
        ready.ExitCode.Should().Be(0, ready.Error);

        var notReady = new FixedAnswerHandler(HttpStatusCode.ServiceUnavailable, """{"status":503,"detail":"group 3 has no leader yet"}""");
        var unready = await RunAsync(["ready"], env: new() { ["HTTP_PORT"] = "8083" }, handler: notReady);
        unready.ExitCode.Should().Be(1);
        unready.Error.Should().Contain("not ready (503): group 3 has no leader yet");
        notReady.Requests.Should().ContainSingle().Which.Should().Be(new Uri("http://127.0.0.1:8083/readyz"), "without --endpoint it asks the node of its own container, on HTTP_PORT");

        var unreachable = await RunAsync(["ready"], handler: new RefusingHandler());
        unreachable.ExitCode.Should().Be(1);
        unreachable.Error.Should().Contain("http://127.0.0.1:8081/ does not answer");

        (await RunAsync(["ready", "--endpoint", "ftp://x"])).ExitCode.Should().Be(2);
    }

    [Fact]
    public async Task Node_options_take_names_or_integers()
    {
        var named = await RunAsync(["leader", "transfer", "1", "--to", "n2"]);
        named.ExitCode.Should().Be(4, "the recording admin has no replica on node n2: a refusal (409)");
        named.Error.Should().Contain($"Node {LsmRaft.Protocol.Cluster.NodeIds.FromName("n2")} holds no replica");

        var bad = await RunAsync(["shards", "move", "1", "--from", "1", "--to", "2x"]);
        bad.ExitCode.Should().Be(2);
        bad.Error.Should().Contain("--to is '2x': expected an integer from 1 to 4503599627370495, or a name");
    }
}
