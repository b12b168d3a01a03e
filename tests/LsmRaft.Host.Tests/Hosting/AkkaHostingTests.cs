using System.Net;
using System.Text;
using System.Text.Json;
using Akka.Configuration;
using LsmRaft.Actors.Background;
using LsmRaft.Host.Config;
using LsmRaft.Host.Node;
using LsmRaft.Host.Tests.Cluster;

namespace LsmRaft.Host.Tests.Hosting;

/// <summary>
/// The node's actor system comes from Akka.Hosting with hocon/lsmraft.conf beside the binary, and the node's settings
/// (JSON, environment, flags) override that file; the background pipelines it configures are reported by the admin API.
/// </summary>
public sealed class AkkaHostingTests
{
    [Fact]
    public void The_HOCON_file_ships_next_to_the_binary_with_documented_background_defaults()
    {
        File.Exists(AkkaConfig.MainFile).Should().BeTrue($"the build copies hocon/ next to the binary ({AkkaConfig.MainFile})");
        var fromFile = BackgroundSettings.FromConfig(ConfigurationFactory.ParseString(File.ReadAllText(AkkaConfig.MainFile)));

        fromFile.Should().Be(new BackgroundSettings(), "0 in the file means the built-in default");
    }

    [Fact]
    public void The_HOCON_file_defines_the_replica_dispatcher_as_the_built_in_block_does()
    {
        var fromFile = ConfigurationFactory.ParseString(File.ReadAllText(AkkaConfig.MainFile)).GetConfig(LsmRaft.Actors.Replica.ReplicaDispatcher.Id);
        var builtIn = ConfigurationFactory.ParseString(LsmRaft.Actors.Replica.ReplicaDispatcher.Hocon).GetConfig(LsmRaft.Actors.Replica.ReplicaDispatcher.Id);

        fromFile.Should().NotBeNull("every node's replicas run on it");
        foreach (var key in new[] { "type", "executor", "throughput" })
            fromFile.GetString(key).Should().Be(builtIn.GetString(key), $"{key} is the same in hocon/lsmraft.conf and ReplicaDispatcher.Hocon");
    }

    [Fact]
    public void An_environment_variable_overrides_the_HOCON_file()
    {
        var env = new Dictionary<string, string?>
        {
            ["LSMRAFT_COMPACTION_PARALLELISM"] = "3",
            ["LSMRAFT_COMPACTION_BYTES_PER_SECOND"] = "8388608",
        };
        var config = ConfigLoader.Load(new ConfigSources(null, env, new Dictionary<string, string>(), InContainer: false)).Config!;

        var layered = ConfigurationFactory.ParseString(AkkaConfig.Overrides(config, debugLog: false))
            .WithFallback(ConfigurationFactory.ParseString(File.ReadAllText(AkkaConfig.MainFile)));
        var settings = BackgroundSettings.FromConfig(layered);

        settings.CompactionParallelism.Should().Be(3);
        settings.CompactionBytesPerSecond.Should().Be(8 * 1024 * 1024);
    }

    [Fact]
    public void Out_of_range_pipeline_settings_are_refused_by_name_before_a_node_starts()
    {
        var env = new Dictionary<string, string?> { ["LSMRAFT_COMPACTION_PARALLELISM"] = "0", ["LSMRAFT_COMPACTION_BYTES_PER_SECOND"] = "10" };
        var result = ConfigLoader.Load(new ConfigSources(null, env, new Dictionary<string, string>(), InContainer: false));

        result.IsValid.Should().BeFalse();
        result.Errors.Should().Contain(e => e.StartsWith("LSMRAFT_COMPACTION_PARALLELISM (--compaction-parallelism) is 0", StringComparison.Ordinal));
        result.Errors.Should().Contain(e => e.StartsWith("LSMRAFT_COMPACTION_BYTES_PER_SECOND (--compaction-bytes-per-second) is 10", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_node_runs_its_engines_on_the_hosted_pipelines_and_reports_them()
    {
        await using var cluster = await InProcessCluster.StartAsync(1, shardsPerNode: 1, configure: c => c with
        {
            CompactionParallelism = 2,
            FlushThresholdBytes = 64 * 1024,
        });
        await cluster.WaitUntilReadyAsync();
        using var client = cluster.ClientFor(1);
        var value = new ByteArrayContent(Encoding.UTF8.GetBytes(new string('v', 4096)));
        for (int i = 0; i < 40; i++) // ~160 KiB: at least two memtables' worth for the shard's engine
            (await client.PutAsync($"/v1/kv/k{i:D3}", value)).EnsureSuccessStatusCode();

        // Bounded poll: pipeline progress raises no node change signal.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (cluster.Runtime(1).BackgroundState.Flush.Completed == 0 && DateTime.UtcNow < deadline)
            await Task.Delay(50);
        cluster.Runtime(1).BackgroundState.Flush.Completed.Should().BeGreaterThan(0, "the shard's engine flushed through the node's pipeline");
        var response = await client.GetAsync("/v1/admin/background");
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = json.RootElement;
        root.GetProperty("compactionParallelism").GetInt32().Should().Be(2);
        root.GetProperty("flush").GetProperty("completed").GetInt64().Should().BeGreaterThan(0);
        root.GetProperty("flush").GetProperty("bytesWritten").GetInt64().Should().BeGreaterThan(0);
        root.GetProperty("compaction").TryGetProperty("queued", out _).Should().BeTrue();
    }
}
