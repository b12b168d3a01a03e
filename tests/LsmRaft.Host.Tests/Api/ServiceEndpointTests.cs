using LsmRaft.Host.Api;
using LsmRaft.Host.Tests.Support;

namespace LsmRaft.Host.Tests.Api;

/// <summary>Cluster, health, readiness, OpenAPI, unknown routes, and the mapping of service failures.</summary>
public sealed class ServiceEndpointTests : IAsyncLifetime
{
    private ApiHost _host = null!;

    public async Task InitializeAsync() => _host = await ApiHost.StartAsync(new ApiOptions { RetryAfterSeconds = 7 });

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task Cluster_returns_the_services_view_as_json()
    {
        var view = await (await _host.Client.GetAsync("/v1/cluster")).JsonAsync();

        view.GetProperty("clusterId").GetString().Should().Be("test-cluster");
        view.GetProperty("mapVersion").GetUInt64().Should().Be(3);
        view.GetProperty("nodes")[1].GetProperty("state").GetString().Should().Be("down");
        view.GetProperty("shards")[1].GetProperty("rangeEnd").GetUInt64().Should().Be(ulong.MaxValue);
        view.GetProperty("shards")[1].GetProperty("leader").ValueKind.Should().Be(System.Text.Json.JsonValueKind.Null);
    }

    [Fact]
    public async Task Healthz_is_200_while_the_process_runs_even_when_not_ready()
    {
        _host.Service.IsReady = false;
        (await _host.Client.GetAsync("/healthz")).StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Readyz_follows_the_services_readiness_with_its_reason()
    {
        (await (await _host.Client.GetAsync("/readyz")).JsonAsync()).GetProperty("ready").GetBoolean().Should().BeTrue();

        _host.Service.IsReady = false;
        _host.Service.Reason = "replaying the log of shard 3";
        var response = await _host.Client.GetAsync("/readyz");

        var problem = await response.ProblemAsync(HttpStatusCode.ServiceUnavailable);
        problem.GetProperty("detail").GetString().Should().Be("replaying the log of shard 3");
        response.Headers.RetryAfter!.Delta.Should().Be(TimeSpan.FromSeconds(7));
    }

    [Fact]
    public async Task Readyz_wait_must_be_whole_seconds_up_to_a_minute()
    {
        await (await _host.Client.GetAsync("/readyz?wait=soon")).ProblemAsync(HttpStatusCode.BadRequest);
        await (await _host.Client.GetAsync("/readyz?wait=61")).ProblemAsync(HttpStatusCode.BadRequest);
        (await (await _host.Client.GetAsync("/readyz?wait=0")).JsonAsync()).GetProperty("ready").GetBoolean().Should().BeTrue();
    }

    [Fact]
    public async Task Openapi_document_describes_the_endpoints()
    {
        var document = await (await _host.Client.GetAsync("/openapi/v1.json")).JsonAsync();

        var paths = document.GetProperty("paths");
        foreach (var path in new[] { "/v1/kv/{key}", "/v1/kv", "/v1/batch", "/v1/kv/{key}/cas", "/v0/entity", "/v1/cluster", "/healthz", "/readyz" })
            paths.TryGetProperty(path, out _).Should().BeTrue(path);
    }

    [Fact]
    public async Task Unknown_routes_are_404_and_wrong_methods_405_as_problems()
    {
        await (await _host.Client.GetAsync("/v2/nothing")).ProblemAsync(HttpStatusCode.NotFound);
        await (await _host.Client.PatchAsync("/v1/kv/k", Http.Octets([1]))).ProblemAsync(HttpStatusCode.MethodNotAllowed);
    }

    [Fact]
    public async Task Shard_unavailable_is_503_with_retry_after()
    {
        _host.Service.FailWith = new ShardUnavailableException(4, "no quorum");

        var response = await _host.Client.GetAsync("/v1/kv/k");

        var problem = await response.ProblemAsync(HttpStatusCode.ServiceUnavailable);
        problem.GetProperty("detail").GetString().Should().Contain("Shard 4").And.Contain("no quorum");
        response.Headers.RetryAfter!.Delta.Should().Be(TimeSpan.FromSeconds(7));
    }

    [Fact]
    public async Task Overloaded_service_is_429_with_retry_after()
    {
        _host.Service.FailWith = new OverloadedException("proposal queue of shard 2 full");

        var response = await _host.Client.PutAsync("/v1/kv/k", Http.Octets([1]));

        await response.ProblemAsync(HttpStatusCode.TooManyRequests);
        response.Headers.RetryAfter!.Delta.Should().Be(TimeSpan.FromSeconds(7));
    }

    [Fact]
    public async Task A_timeout_inside_the_service_is_503()
    {
        _host.Service.FailWith = new TimeoutException("apply did not finish");
        var response = await _host.Client.DeleteAsync("/v1/kv/k");
        await response.ProblemAsync(HttpStatusCode.ServiceUnavailable);
        response.Headers.RetryAfter.Should().NotBeNull();
    }

    [Fact]
    public async Task A_too_large_error_from_the_service_is_413()
    {
        _host.Service.FailWith = new TooLargeException("The batch is over the shard's proposal size limit.");
        await (await _host.Client.PostAsync("/v1/batch", Http.Json("""{"operations":[{"op":"delete","key":"k"}]}"""))).ProblemAsync(HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task An_unexpected_failure_is_500_with_a_correlation_id_that_the_log_records()
    {
        _host.Service.FailWith = new InvalidOperationException("engine exploded");

        var problem = await (await _host.Client.GetAsync("/v1/kv/k")).ProblemAsync(HttpStatusCode.InternalServerError);

        string correlationId = problem.GetProperty("correlationId").GetString()!;
        correlationId.Should().NotBeNullOrEmpty();
        problem.GetProperty("detail").GetString().Should().Contain(correlationId).And.NotContain("exploded");
        _host.Log.Entries.Should().Contain(e => e.Level == LogLevel.Error && e.Message.Contains(correlationId) && e.Exception is InvalidOperationException);
    }
}
