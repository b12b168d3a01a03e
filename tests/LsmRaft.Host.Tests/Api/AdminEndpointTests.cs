using LsmRaft.Host.Api;
using LsmRaft.Host.Tests.Support;

namespace LsmRaft.Host.Tests.Api;

public sealed class AdminEndpointTests
{
    private const string Token = "0123456789abcdef-admin";

    private static async Task<(ApiHost Host, RecordingClusterAdmin Admin)> StartAsync(string? token = null)
    {
        RecordingClusterAdmin? admin = null;
        var host = await ApiHost.StartAsync(new ApiOptions { AdminToken = token }, services =>
            services.AddSingleton<IClusterAdmin>(sp => admin = new RecordingClusterAdmin((EngineKvService)sp.GetRequiredService<IKvService>())));
        return (host, admin ?? (RecordingClusterAdmin)host.Server.Services.GetRequiredService<IClusterAdmin>());
    }

    [Fact]
    public async Task Split_move_and_transfer_answer_202_with_the_new_view()
    {
        var (host, admin) = await StartAsync();
        await using var _ = host;

        var split = await (await host.Client.PostAsync("/v1/admin/shards/1/split", null)).JsonAsync(HttpStatusCode.Accepted);
        split.GetProperty("shards").GetArrayLength().Should().Be(3);

        var move = await (await host.Client.PostAsync("/v1/admin/shards/2/move", Http.Json("""{"from":2,"to":3}"""))).JsonAsync(HttpStatusCode.Accepted);
        move.GetProperty("mapVersion").GetUInt64().Should().Be(5);

        await (await host.Client.PostAsync("/v1/admin/shards/1/transfer-leader", Http.Json("""{"to":2}"""))).JsonAsync(HttpStatusCode.Accepted);

        admin.Calls.Should().Equal("split 1", "move 2 2->3", "transfer 1 ->2");
    }

    [Fact]
    public async Task Node_ids_in_admin_bodies_may_be_names_or_numbers_in_strings()
    {
        var (host, admin) = await StartAsync();
        await using var _ = host;

        // The recording admin knows nodes 1-3 only, so the named node is unknown (409), but it arrives as its id.
        await (await host.Client.PostAsync("/v1/admin/shards/1/transfer-leader", Http.Json("""{"to":"n2"}"""))).ProblemAsync(HttpStatusCode.Conflict);
        await (await host.Client.PostAsync("/v1/admin/shards/1/transfer-leader", Http.Json("""{"to":"2"}"""))).JsonAsync(HttpStatusCode.Accepted);
        await (await host.Client.PostAsync("/v1/admin/shards/1/transfer-leader", Http.Json("""{"to":"2n"}"""))).ProblemAsync(HttpStatusCode.BadRequest);
        await (await host.Client.PostAsync("/v1/admin/shards/1/transfer-leader", Http.Json("""{"to":9007199254740993}"""))).ProblemAsync(HttpStatusCode.BadRequest);

        admin.Calls.Should().Equal($"transfer 1 ->{LsmRaft.Protocol.Cluster.NodeIds.FromName("n2")}", "transfer 1 ->2");
    }

    [Fact]
    public async Task Admin_errors_map_to_404_409_and_400()
    {
        var (host, _) = await StartAsync();
        await using var _host = host;

        await (await host.Client.PostAsync("/v1/admin/shards/99/split", null)).ProblemAsync(HttpStatusCode.NotFound);
        await (await host.Client.PostAsync("/v1/admin/shards/1/transfer-leader", Http.Json("""{"to":7}"""))).ProblemAsync(HttpStatusCode.Conflict);
        await (await host.Client.PostAsync("/v1/admin/shards/1/move", Http.Json("""{"from":1,"to":2}"""))).ProblemAsync(HttpStatusCode.Conflict);
        await (await host.Client.PostAsync("/v1/admin/shards/1/move", Http.Json("""{"from":1,"to":9}"""))).ProblemAsync(HttpStatusCode.NotFound);
        await (await host.Client.PostAsync("/v1/admin/shards/one/split", null)).ProblemAsync(HttpStatusCode.BadRequest);
        await (await host.Client.PostAsync("/v1/admin/shards/1/move", Http.Json("""{"from":1,"to":1}"""))).ProblemAsync(HttpStatusCode.BadRequest);
        await (await host.Client.PostAsync("/v1/admin/shards/1/move", Http.Json("""{"from":1}"""))).ProblemAsync(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task With_an_admin_token_requests_need_the_bearer()
    {
        var (host, admin) = await StartAsync(Token);
        await using var _ = host;

        var missing = await host.Client.PostAsync("/v1/admin/shards/1/split", null);
        await missing.ProblemAsync(HttpStatusCode.Unauthorized);
        missing.Headers.WwwAuthenticate.ToString().Should().Be("Bearer");
        await (await host.Client.SendAsync(Http.Request(HttpMethod.Post, "/v1/admin/shards/1/split", null, ("Authorization", "Bearer wrong-token-123456")))).ProblemAsync(HttpStatusCode.Unauthorized);
        admin.Calls.Should().BeEmpty();

        (await host.Client.SendAsync(Http.Request(HttpMethod.Post, "/v1/admin/shards/1/split", null, ("Authorization", $"Bearer {Token}")))).StatusCode.Should().Be(HttpStatusCode.Accepted);
        admin.Calls.Should().Equal("split 1");
    }

    [Fact]
    public async Task Without_an_admin_service_admin_endpoints_are_501()
    {
        await using var host = await ApiHost.StartAsync();
        await (await host.Client.PostAsync("/v1/admin/shards/1/split", null)).ProblemAsync(HttpStatusCode.NotImplemented);
    }
}
