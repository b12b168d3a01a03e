using LsmRaft.Host.Tests.Support;
using LsmRaft.Protocol.Hashing;

namespace LsmRaft.Host.Tests.Monitoring;

public sealed class UiAndLocateEndpointTests
{
    [Theory]
    [InlineData("/")]
    [InlineData("/ui")]
    public async Task The_root_and_ui_without_a_slash_redirect_to_the_ui(string path)
    {
        await using var host = await ApiHost.StartAsync();
        var response = await host.Client.GetAsync(path);
        response.StatusCode.Should().Be(HttpStatusCode.Redirect);
        response.Headers.Location!.OriginalString.Should().Be("/ui/");
    }

    [Fact]
    public async Task The_ui_files_are_served_from_the_assembly_with_their_content_types()
    {
        await using var host = await ApiHost.StartAsync();
        var index = await host.Client.GetAsync("/ui/");
        index.StatusCode.Should().Be(HttpStatusCode.OK);
        index.Content.Headers.ContentType!.ToString().Should().Be("text/html; charset=utf-8");
        var html = await index.Content.ReadAsStringAsync();
        html.Should().Contain("<script type=\"module\" src=\"app.js\">");
        foreach (var file in new[] { "app.js", "app.css", "dom.js", "charts.js", "vlist.js", "page-cluster.js", "page-shards.js", "page-storage.js", "page-traffic.js", "page-actions.js", "page-data.js" })
        {
            var response = await host.Client.GetAsync($"/ui/{file}");
            response.StatusCode.Should().Be(HttpStatusCode.OK, file);
            response.Content.Headers.ContentType!.MediaType.Should().Be(file.EndsWith(".css") ? "text/css" : "text/javascript", file);
            (await response.Content.ReadAsStringAsync()).Should().NotBeEmpty(file);
        }
    }

    [Fact]
    public async Task A_missing_ui_file_is_a_404_problem()
    {
        await using var host = await ApiHost.StartAsync();
        var problem = await (await host.Client.GetAsync("/ui/nope.js")).ProblemAsync(HttpStatusCode.NotFound);
        problem.GetProperty("detail").GetString().Should().Contain("nope.js");
    }

    [Fact]
    public async Task Locate_names_the_keys_hash_shard_replicas_and_leader()
    {
        await using var host = await ApiHost.StartAsync();
        ulong hash = KeyHash.Hash("user42"u8);
        var shard = host.Service.View.Shards.Single(s => s.Contains(hash));

        var located = await (await host.Client.GetAsync("/v1/locate/user42")).JsonAsync();

        located.GetProperty("key").GetString().Should().Be("user42");
        located.GetProperty("encoding").GetString().Should().Be("utf8");
        located.GetProperty("hash").GetString().Should().Be(hash.ToString("x16"));
        located.GetProperty("shardId").GetUInt64().Should().Be(shard.Id);
        located.GetProperty("rangeStart").GetString().Should().Be(shard.RangeStart.ToString("x16"));
        located.GetProperty("replicas").EnumerateArray().Select(r => r.GetUInt64()).Should().Equal(shard.Replicas);

        var binary = await (await host.Client.GetAsync("/v1/locate/AP8?encoding=base64url")).JsonAsync();
        binary.GetProperty("hash").GetString().Should().Be(KeyHash.Hash([0x00, 0xFF]).ToString("x16"));
    }

    [Fact]
    public async Task Locate_refuses_a_bad_encoding_and_monitoring_needs_a_monitor()
    {
        await using var host = await ApiHost.StartAsync();
        (await (await host.Client.GetAsync("/v1/locate/k?encoding=hex")).ProblemAsync(HttpStatusCode.BadRequest))
            .GetProperty("detail").GetString().Should().Contain("'encoding'");
        (await (await host.Client.GetAsync("/v1/locate/%2A%2A?encoding=base64url")).ProblemAsync(HttpStatusCode.BadRequest)).GetProperty("detail").GetString().Should().Contain("base64url");
        foreach (var path in new[] { "/v1/node", "/v1/nodes", "/v1/node/traffic", "/v1/nodes/traffic", "/v1/events" })
            await (await host.Client.GetAsync(path)).ProblemAsync(HttpStatusCode.NotImplemented);
    }
}
