using LsmRaft.Host.Config;
using LsmRaft.Protocol.Cluster;

namespace LsmRaft.Host.Tests.Config;

public sealed class ConfigLoaderTests : IDisposable
{
    private const string Secret = "s3cret-s3cret-s3cret";
    private readonly string _dir = Directory.CreateTempSubdirectory("lsmraft-config-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static ConfigResult Load(
        IDictionary<string, string?>? env = null, IDictionary<string, string>? flags = null, string? file = null, bool inContainer = false) =>
        ConfigLoader.Load(new ConfigSources(
            file,
            new Dictionary<string, string?>(env ?? new Dictionary<string, string?>()),
            new Dictionary<string, string>(flags ?? new Dictionary<string, string>()),
            inContainer));

    private string WriteFile(string json)
    {
        string path = Path.Combine(_dir, $"config-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, json);
        return path;
    }

    private static IReadOnlyList<string> Errors(ConfigResult result)
    {
        result.IsValid.Should().BeFalse();
        result.Errors.Should().NotBeEmpty();
        return result.Errors;
    }

    [Fact]
    public void Without_any_source_the_defaults_apply()
    {
        var config = Load().Config!;

        config.PeerId.Should().Be(1UL);
        config.Port.Should().Be(8080);
        config.HttpPort.Should().Be(8081);
        config.GroupId.Should().Be("lsmraft");
        config.Peers.Should().BeEmpty();
        config.EffectivePeers.Should().Equal(new PeerAddress(1, "127.0.0.1", 8080));
        config.EffectiveReplicationFactor.Should().Be(1);
        config.DataDir.Should().Be("./data");
        config.Shards.Should().Be(4);
        config.MaxKeyBytes.Should().Be(65536);
        config.MaxValueBytes.Should().Be(1 << 20);
        config.BindAddress.Should().Be("0.0.0.0");
    }

    [Fact]
    public void In_a_container_the_data_dir_defaults_to_slash_data()
    {
        Load(inContainer: true).Config!.DataDir.Should().Be("/data");
        ConfigLoader.DetectContainer(new Dictionary<string, string?> { ["DOTNET_RUNNING_IN_CONTAINER"] = "true" }).Should().BeTrue();
    }

    [Fact]
    public void The_repository_config_file_holds_exactly_the_defaults()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "LsmRaft.sln")))
            dir = dir.Parent;
        dir.Should().NotBeNull("the tests run inside the repository");

        var fromFile = Load(file: Path.Combine(dir!.FullName, "config", "lsmraft.json"));

        fromFile.Errors.Should().BeEmpty();
        var defaults = ConfigLoader.Defaults(inContainer: false);
        (fromFile.Config! with { Peers = defaults.Peers }).Should().Be(defaults);
        fromFile.Config!.Peers.Should().BeEmpty();
        ConfigLoader.Settings.Where(s => s.Name != "DataDir").Select(s => s.Json)
            .Should().BeSubsetOf(File.ReadAllText(Path.Combine(dir.FullName, "config", "lsmraft.json")).Split('"'), "the file lists every setting but the container-dependent DataDir");
    }

    [Fact]
    public void The_origins_environment_variables_are_read_unchanged()
    {
        var config = Load(new Dictionary<string, string?>
        {
            ["PEER_ID"] = "2",
            ["PORT"] = "9090",
            ["HTTP_PORT"] = "9091",
            ["GROUP_ID"] = "prod-east",
            ["PEERS"] = "1:n1:8080, 2:n2:9090 ,3:n3:8080",
            ["DATA_DIR"] = "/var/lib/lsmraft",
            ["FLUSH_THRESHOLD_BYTES"] = "1048576",
            ["BLOOM_FPP"] = "0.01",
            ["BLOOM_HASH_FUNCS"] = "7",
            ["LSMRAFT_CLUSTER_SECRET"] = Secret,
        }).Config!;

        config.PeerId.Should().Be(2UL);
        config.Port.Should().Be(9090);
        config.HttpPort.Should().Be(9091);
        config.GroupId.Should().Be("prod-east");
        config.Peers.Should().Equal(new PeerAddress(1, "n1", 8080), new PeerAddress(2, "n2", 9090), new PeerAddress(3, "n3", 8080));
        config.DataDir.Should().Be("/var/lib/lsmraft");
        config.FlushThresholdBytes.Should().Be(1048576);
        config.BloomFpp.Should().Be(0.01);
        config.BloomHashFuncs.Should().Be(7);
        config.EffectiveReplicationFactor.Should().Be(3);
    }

    [Fact]
    public void Lsmraft_prefixed_variables_set_the_other_settings()
    {
        var config = Load(new Dictionary<string, string?>
        {
            ["LSMRAFT_SHARDS"] = "16",
            ["LSMRAFT_MAX_IN_FLIGHT_REQUESTS"] = "50",
            ["LSMRAFT_MAX_KEY_BYTES"] = "1024",
            ["LSMRAFT_MAX_VALUE_BYTES"] = "2048",
            ["LSMRAFT_MAX_BODY_BYTES"] = "4096",
            ["LSMRAFT_DOWN_REPLICA_TIMEOUT"] = "90s",
            ["LSMRAFT_BIND_ADDRESS"] = "127.0.0.1",
            ["LSMRAFT_REQUEST_TIMEOUT"] = "1500ms",
            ["LSMRAFT_JOIN"] = "10.0.0.1:8080",
            ["LSMRAFT_INSECURE_DEV"] = "yes",
            ["LSMRAFT_SHUTDOWN_TIMEOUT"] = "00:01:00",
        }).Config!;

        config.Shards.Should().Be(16);
        config.MaxInFlightRequests.Should().Be(50);
        config.MaxKeyBytes.Should().Be(1024);
        config.MaxValueBytes.Should().Be(2048);
        config.MaxBodyBytes.Should().Be(4096);
        config.DownReplicaTimeout.Should().Be(TimeSpan.FromSeconds(90));
        config.BindAddress.Should().Be("127.0.0.1");
        config.RequestTimeout.Should().Be(TimeSpan.FromMilliseconds(1500));
        config.Join.Should().Be("10.0.0.1:8080");
        config.InsecureDev.Should().BeTrue();
        config.ShutdownTimeout.Should().Be(TimeSpan.FromMinutes(1));
        config.ToApiOptions().MaxInFlightRequests.Should().Be(50);
    }

    [Fact]
    public void Flags_override_the_environment_which_overrides_the_file_which_overrides_defaults()
    {
        string file = WriteFile("""
            // comments are allowed
            { "port": 7000, "httpPort": 7001, "shards": 8, "groupId": "from-file", "peers": ["1:a:7000", "2:b:7000"], "insecureDev": true }
            """);
        var env = new Dictionary<string, string?> { ["PORT"] = "7100", ["HTTP_PORT"] = "7101", ["GROUP_ID"] = "from-env" };
        var flags = new Dictionary<string, string> { ["Port"] = "7200", ["Peers"] = "1:a:7200,2:b:7000" };

        var config = Load(env, flags, file).Config!;

        config.Port.Should().Be(7200, "flags win");
        config.HttpPort.Should().Be(7101, "the environment beats the file");
        config.GroupId.Should().Be("from-env");
        config.Shards.Should().Be(8, "the file beats the defaults");
        config.MaxKeyBytes.Should().Be(65536, "untouched settings keep their defaults");
        config.Peers.Select(p => p.ToString()).Should().Equal("1:a:7200", "2:b:7000");
    }

    [Fact]
    public void The_config_file_can_be_named_by_lsmraft_config()
    {
        string file = WriteFile("""{ "shards": 2 }""");
        Load(new Dictionary<string, string?> { ["LSMRAFT_CONFIG"] = file }).Config!.Shards.Should().Be(2);
    }

    [Fact]
    public void A_bad_peers_entry_is_named_with_the_expected_form()
    {
        Errors(Load(new Dictionary<string, string?> { ["PEERS"] = "1:a:8080,x:y" }))
            .Should().Contain($"PEERS (environment) entry 'x:y' is invalid: expected id:host:port with id {NodeIds.Accepted}, e.g. 2:10.0.0.2:8080 or n2:n2:8762.");
    }

    [Theory]
    [InlineData("PEER_ID", "1abc", "PEER_ID (environment) is '1abc': expected an integer from 1 to 4503599627370495, or a name")]
    [InlineData("PEER_ID", "-n1", "PEER_ID (environment) is '-n1': expected an integer from 1 to")]
    [InlineData("PEER_ID", "4503599627370496", "PEER_ID (environment) is '4503599627370496'")]
    [InlineData("LSMRAFT_HOSTS", "n1=not-an-ip", "LSMRAFT_HOSTS (environment) is 'n1=not-an-ip': expected comma-separated host=IP entries")]
    [InlineData("LSMRAFT_HOSTS", "n1=127.0.0.1,N1=127.0.0.2", "LSMRAFT_HOSTS (environment) is 'n1=127.0.0.1,N1=127.0.0.2'")]
    [InlineData("PEER_ID", "0", "PEER_ID (environment) is '0'")]
    [InlineData("PORT", "http", "PORT (environment) is 'http': expected a port from 1 to 65535")]
    [InlineData("PORT", "70000", "PORT (--port) is 70000: expected a port from 1 to 65535")]
    [InlineData("HTTP_PORT", "0", "HTTP_PORT (--http-port) is 0")]
    [InlineData("PORT", "8081", "both 8081")]
    [InlineData("GROUP_ID", "bad id!", "GROUP_ID (--group-id) is 'bad id!'")]
    [InlineData("FLUSH_THRESHOLD_BYTES", "0", "FLUSH_THRESHOLD_BYTES (--flush-threshold-bytes) is 0: expected a byte count from 1 to 1073741824")]
    [InlineData("BLOOM_FPP", "0", "BLOOM_FPP (--bloom-fpp) is 0: expected a number in (0, 0.5]")]
    [InlineData("BLOOM_FPP", "0.6", "BLOOM_FPP (--bloom-fpp) is 0.6")]
    [InlineData("BLOOM_FPP", "often", "BLOOM_FPP (environment) is 'often'")]
    [InlineData("BLOOM_HASH_FUNCS", "0", "BLOOM_HASH_FUNCS (--bloom-hash-funcs) is 0")]
    [InlineData("LSMRAFT_SHARDS", "0", "LSMRAFT_SHARDS (--shards) is 0")]
    [InlineData("LSMRAFT_REPLICATION_FACTOR", "2", "LSMRAFT_REPLICATION_FACTOR (--replication-factor) is 2: expected an integer from 1 to 1")]
    [InlineData("LSMRAFT_INSECURE_DEV", "maybe", "LSMRAFT_INSECURE_DEV (environment) is 'maybe': expected true or false")]
    [InlineData("LSMRAFT_JOIN", "nohost", "LSMRAFT_JOIN (--join) is 'nohost'")]
    [InlineData("LSMRAFT_JOIN", "h:99999", "LSMRAFT_JOIN (--join) is 'h:99999'")]
    [InlineData("LSMRAFT_MAX_IN_FLIGHT_REQUESTS", "0", "LSMRAFT_MAX_IN_FLIGHT_REQUESTS (--max-in-flight-requests) is 0")]
    [InlineData("LSMRAFT_MAX_KEY_BYTES", "0", "LSMRAFT_MAX_KEY_BYTES (--max-key-bytes) is 0")]
    [InlineData("LSMRAFT_MAX_VALUE_BYTES", "8388608", "LSMRAFT_MAX_BODY_BYTES (--max-body-bytes) is 4194304: expected a byte count from MaxValueBytes")]
    [InlineData("LSMRAFT_DOWN_REPLICA_TIMEOUT", "5", "LSMRAFT_DOWN_REPLICA_TIMEOUT (--down-replica-timeout) is '00:00:05'")]
    [InlineData("LSMRAFT_DOWN_REPLICA_TIMEOUT", "soon", "LSMRAFT_DOWN_REPLICA_TIMEOUT (environment) is 'soon': expected a duration")]
    [InlineData("LSMRAFT_BIND_ADDRESS", "localhost", "LSMRAFT_BIND_ADDRESS (--bind-address) is 'localhost': expected an IP address")]
    [InlineData("LSMRAFT_REQUEST_TIMEOUT", "1ms", "LSMRAFT_REQUEST_TIMEOUT (--request-timeout)")]
    [InlineData("LSMRAFT_RETRY_AFTER_SECONDS", "0", "LSMRAFT_RETRY_AFTER_SECONDS (--retry-after-seconds) is 0")]
    [InlineData("LSMRAFT_ADMIN_TOKEN", "short", "LSMRAFT_ADMIN_TOKEN (--admin-token) is '(hidden)'")]
    [InlineData("LSMRAFT_SHUTDOWN_TIMEOUT", "1h", "LSMRAFT_SHUTDOWN_TIMEOUT (--shutdown-timeout)")]
    [InlineData("LSMRAFT_CLUSTER_SECRET", "short", "LSMRAFT_CLUSTER_SECRET (--cluster-secret) is too short")]
    public void An_invalid_setting_is_reported_with_its_name_value_and_accepted_values(string variable, string value, string expected)
    {
        Errors(Load(new Dictionary<string, string?> { [variable] = value }))
            .Should().Contain(e => e.Contains(expected), $"{variable}={value} should be reported as ...{expected}...");
    }

    [Fact]
    public void Duplicate_peer_ids_and_addresses_are_reported()
    {
        var errors = Errors(Load(new Dictionary<string, string?>
        {
            ["PEERS"] = "1:a:8080,1:b:8080,2:a:8080",
            ["LSMRAFT_CLUSTER_SECRET"] = Secret,
        }));

        errors.Should().Contain(e => e.Contains("PEERS lists id 1 2 times"));
        errors.Should().Contain(e => e.Contains("PEERS lists a:8080 for ids 1, 2"));
    }

    [Fact]
    public void A_peer_id_missing_from_peers_is_reported_with_the_known_ids()
    {
        Errors(Load(new Dictionary<string, string?> { ["PEER_ID"] = "4", ["PEERS"] = "1:a:8080,2:b:8080", ["LSMRAFT_CLUSTER_SECRET"] = Secret }))
            .Should().Contain(e => e.Contains("PEER_ID (--peer-id) is 4, which PEERS does not list; PEERS has ids 1, 2"));
    }

    [Fact]
    public void The_own_peers_entry_must_use_port()
    {
        Errors(Load(new Dictionary<string, string?> { ["PEERS"] = "1:a:9000,2:b:8080", ["LSMRAFT_CLUSTER_SECRET"] = Secret }))
            .Should().Contain(e => e.Contains("PEERS gives node 1 peer port 9000 but PORT (--port) is 8080"));
    }

    [Fact]
    public void A_multi_node_cluster_starts_without_a_secret_as_the_origin_does()
    {
        var env = new Dictionary<string, string?> { ["PEERS"] = "1:a:8080,2:b:8080" };
        Load(env).Config!.ClusterSecret.Should().BeNull("peers then authenticate by GROUP_ID");
        Load(env, new Dictionary<string, string> { ["InsecureDev"] = "true" }).IsValid.Should().BeTrue();
        env["LSMRAFT_CLUSTER_SECRET"] = Secret;
        Load(env).Config!.ClusterSecret.Should().Be(Secret);
    }

    /// <summary>The origin's docker run environment of node n1, verbatim.</summary>
    private static Dictionary<string, string?> OriginEnvironment(string peerId, string peers = "n1:n1:8761,n2:n2:8762,n3:n3:8763") => new()
    {
        ["PEER_ID"] = peerId,
        ["PORT"] = peerId switch { "n1" => "8761", "n2" => "8762", _ => "8763" },
        ["HTTP_PORT"] = peerId switch { "n1" => "8081", "n2" => "8082", _ => "8083" },
        ["GROUP_ID"] = "3fa85f64-5717-4562-b3fc-2c963f66afa6",
        ["PEERS"] = peers,
        ["FLUSH_THRESHOLD_BYTES"] = "1024",
        ["BLOOM_FPP"] = "0.02",
        ["BLOOM_HASH_FUNCS"] = "2",
    };

    [Fact]
    public void The_origins_docker_run_environment_is_accepted_verbatim()
    {
        var result = Load(OriginEnvironment("n1"), inContainer: true);

        result.Errors.Should().BeEmpty();
        var config = result.Config!;
        config.PeerId.Should().Be(NodeIds.FromName("n1"));
        config.NodeName.Should().Be("n1");
        config.Peers.Select(p => (p.Name, p.Id, p.Host, p.Port)).Should().Equal(
            ("n1", NodeIds.FromName("n1"), "n1", 8761), ("n2", NodeIds.FromName("n2"), "n2", 8762), ("n3", NodeIds.FromName("n3"), "n3", 8763));
        config.FlushThresholdBytes.Should().Be(1024);
        config.BloomHashFuncs.Should().Be(2);
        config.ClusterSecret.Should().BeNull();
        config.DataDir.Should().Be("/data");
    }

    [Fact]
    public void A_names_id_depends_on_the_name_alone_not_on_the_order_of_peers()
    {
        var ordered = Load(OriginEnvironment("n2")).Config!;
        var reordered = Load(OriginEnvironment("n2", "n3:n3:8763,n2:n2:8762,n1:n1:8761")).Config!;

        reordered.PeerId.Should().Be(ordered.PeerId);
        reordered.Peers.ToDictionary(p => p.Name, p => p.Id).Should().Equal(ordered.Peers.ToDictionary(p => p.Name, p => p.Id));
        // Pinned: the mapping is part of the data on disk (Raft membership), so it must never change.
        NodeIds.FromName("n1").Should().Be(5148156631544888UL);
        NodeIds.FromName("node-a").Should().Be(NodeIds.FromName("node-a")).And.NotBe(NodeIds.FromName("node-b"));
        ordered.Peers.Select(p => p.Id).Should().OnlyContain(id => NodeIds.IsNameId(id));
    }

    [Fact]
    public void Integer_ids_and_names_mix_and_integers_cannot_reach_the_names_range()
    {
        var env = new Dictionary<string, string?> { ["PEER_ID"] = "node-a", ["PORT"] = "9000", ["PEERS"] = "node-a:10.0.0.1:9000,2:10.0.0.2:9000" };
        var config = Load(env).Config!;
        config.Peers.Select(p => p.Id).Should().Equal(NodeIds.FromName("node-a"), 2UL);

        env["PEERS"] = $"node-a:10.0.0.1:9000,{NodeIds.FromName("node-a")}:10.0.0.2:9000";
        Errors(Load(env)).Should().Contain(e => e.Contains($"entry '{NodeIds.FromName("node-a")}:10.0.0.2:9000' is invalid"), "an integer of 2^52 or more would pose as a name's id");
    }

    [Fact]
    public void Two_names_with_the_same_id_are_refused_naming_both()
    {
        // A real XXH64 collision of two short names is too rare to find here; the rule is checked on the ids it compares.
        ulong id = NodeIds.FromName("alpha");
        var config = new NodeConfig
        {
            PeerId = id,
            PeerName = "alpha",
            Port = 9000,
            Peers = [new PeerAddress(id, "10.0.0.1", 9000) { Name = "alpha" }, new PeerAddress(id, "10.0.0.2", 9000) { Name = "beta" }],
        };
        ConfigLoader.Validate(config).Should().Contain("PEERS names 'alpha' and 'beta' map to the same node id " + id + " (a hash collision of names): rename one of them.");
    }

    [Fact]
    public void Hosts_map_peer_host_names_to_addresses()
    {
        var env = OriginEnvironment("n1");
        env["LSMRAFT_HOSTS"] = "n1=127.0.0.1, n2=127.0.0.1,n3=::1";
        var config = Load(env).Config!;

        config.DialHost("n1").Should().Be("127.0.0.1");
        config.DialHost("N3").Should().Be("::1");
        config.DialHost("elsewhere").Should().Be("elsewhere", "hosts without an entry are resolved by DNS");
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(1L)]
    [InlineData(1024L)]
    [InlineData(65535L)]
    [InlineData(1L << 30)]
    [InlineData((1L << 30) + 1)]
    [InlineData(-5L)]
    public void The_configuration_and_the_engine_agree_on_every_flush_threshold(long threshold)
    {
        bool configAccepts = Load(new Dictionary<string, string?> { ["FLUSH_THRESHOLD_BYTES"] = threshold.ToString(System.Globalization.CultureInfo.InvariantCulture) }).IsValid;
        bool engineAccepts;
        try
        {
            new LsmRaft.Storage.LsmOptions { FlushThresholdBytes = threshold }.Validate();
            engineAccepts = true;
        }
        catch (LsmRaft.Storage.InvalidOptionException)
        {
            engineAccepts = false;
        }

        configAccepts.Should().Be(engineAccepts, "a threshold of {0} must be judged alike by the configuration and the engine", threshold);
        configAccepts.Should().Be(threshold >= 1 && threshold <= 1L << 30);
    }

    [Fact]
    public void Every_problem_is_reported_at_once()
    {
        var errors = Errors(Load(new Dictionary<string, string?> { ["PORT"] = "x", ["BLOOM_FPP"] = "y", ["PEERS"] = "bad" }));
        errors.Should().HaveCount(3);
    }

    [Fact]
    public void Parse_errors_and_range_errors_of_different_settings_are_reported_together()
    {
        var errors = Errors(Load(new Dictionary<string, string?> { ["PORT"] = "x", ["HTTP_PORT"] = "0", ["PEERS"] = "1:a:9000" }));

        errors.Should().HaveCount(2);
        errors.Should().Contain(e => e.StartsWith("PORT (environment) is 'x'"));
        errors.Should().Contain(e => e.StartsWith("HTTP_PORT (--http-port) is 0"));
        errors.Should().NotContain(e => e.Contains("PEERS gives node 1"), "PORT did not parse, so its default must not be judged against PEERS");
    }

    [Fact]
    public void Config_file_problems_name_the_file_and_member()
    {
        string unknown = WriteFile("""{ "prot": 1 }""");
        Errors(Load(file: unknown)).Should().Contain(e => e.Contains($"'prot' in {unknown} is not a setting") && e.Contains("port"));

        string wrongType = WriteFile("""{ "port": {"x": 1} }""");
        Errors(Load(file: wrongType)).Should().Contain(e => e.Contains($"'port' in {wrongType}") && e.Contains("a port from 1 to 65535"));

        string badJson = WriteFile("""{ "port": """);
        Errors(Load(file: badJson)).Should().Contain(e => e.Contains($"Config file '{badJson}' is not valid JSON"));

        string array = WriteFile("[1]");
        Errors(Load(file: array)).Should().Contain(e => e.Contains("must hold a JSON object"));

        string missing = Path.Combine(_dir, "missing.json");
        Errors(Load(file: missing)).Should().Contain(e => e.Contains($"Config file '{missing}' cannot be read"));
    }

    [Theory]
    [InlineData("300", 300_000)]
    [InlineData("90s", 90_000)]
    [InlineData("250ms", 250)]
    [InlineData("5m", 300_000)]
    [InlineData("1.5h", 5_400_000)]
    [InlineData("00:00:30", 30_000)]
    public void Durations_accept_seconds_units_and_timespans(string text, long milliseconds)
    {
        ConfigLoader.ParseDuration(text).Should().Be(TimeSpan.FromMilliseconds(milliseconds));
    }

    [Theory]
    [InlineData("10.0.0.1:8080", "10.0.0.1", 8080)]
    [InlineData("node-3:1", "node-3", 1)]
    [InlineData("[::1]:9000", "::1", 9000)]
    public void Host_port_pairs_parse(string text, string host, int port)
    {
        ConfigLoader.TryParseHostPort(text, out var h, out var p).Should().BeTrue();
        (h, p).Should().Be((host, port));
    }
}

public sealed class AkkaPortConfigTests
{
    private static ConfigResult Load(Dictionary<string, string?> env) =>
        ConfigLoader.Load(new ConfigSources(null, env, new Dictionary<string, string>(), InContainer: false));

    [Fact]
    public void The_akka_port_defaults_to_port_plus_10000_and_peers_carry_it_as_an_optional_fourth_field()
    {
        var origin = Load(new() { ["PEER_ID"] = "n1", ["PORT"] = "8761", ["PEERS"] = "n1:n1:8761,n2:n2:8762,n3:n3:60000" }).Config!;
        origin.EffectiveAkkaPort.Should().Be(18761);
        origin.Peers.Select(p => p.AkkaPort).Should().Equal(18761, 18762, 50000); // above 55535: PORT - 10000

        var custom = Load(new() { ["PEER_ID"] = "1", ["PORT"] = "8080", ["AKKA_PORT"] = "4053", ["PEERS"] = "1:10.0.0.1:8080:4053,2:10.0.0.2:8080,3:[::1]:8081:4054" }).Config!;
        custom.EffectiveAkkaPort.Should().Be(4053);
        custom.Peers.Select(p => (p.Host, p.Port, p.AkkaPort)).Should().Equal(("10.0.0.1", 8080, 4053), ("10.0.0.2", 8080, 18080), ("::1", 8081, 4054));
        custom.Peers[0].ToString().Should().Be("1:10.0.0.1:8080:4053");
    }

    [Fact]
    public void An_akka_port_peers_cannot_know_a_port_taken_twice_or_out_of_range_is_refused_naming_the_setting()
    {
        Load(new() { ["PEER_ID"] = "1", ["PORT"] = "8080", ["AKKA_PORT"] = "4053", ["PEERS"] = "1:h1:8080,2:h2:8080" }).Errors
            .Should().ContainSingle(e => e.Contains("AKKA_PORT (--akka-port) is 4053") && e.Contains("1:h1:8080:4053"));
        Load(new() { ["PORT"] = "8080", ["AKKA_PORT"] = "8081" }).Errors
            .Should().ContainSingle(e => e.Contains("AKKA_PORT") && e.Contains("8081"));
        Load(new() { ["PORT"] = "8080", ["AKKA_PORT"] = "70000" }).Errors
            .Should().ContainSingle(e => e.StartsWith("AKKA_PORT (--akka-port) is 70000"));
        Load(new() { ["PEERS"] = "1:h1:8080:99999" }).Errors
            .Should().ContainSingle(e => e.Contains("'1:h1:8080:99999'"));
    }
}
