using LsmRaft.Host.Api;
using LsmRaft.Host.Metrics;
using LsmRaft.Host.Tests.Support;

namespace LsmRaft.Host.Tests.Api;

/// <summary>GET /metrics on the API alone: request counts by route, method and status, and rejections by status and reason.</summary>
public sealed class ApiMetricsTests
{
    [Fact]
    public async Task Requests_are_counted_by_route_method_and_status_and_429s_by_reason()
    {
        using var telemetry = new NodeTelemetry(7);
        const int limit = 1;
        await using var host = await ApiHost.StartAsync(new ApiOptions { MaxInFlightRequests = limit }, s => s.AddLsmRaftMetrics(telemetry));

        for (int i = 0; i < 5; i++)
            (await host.Client.PutAsync($"/v1/kv/k{i}", new ByteArrayContent(Encoding.UTF8.GetBytes("v")))).EnsureSuccessStatusCode();
        (await host.Client.GetAsync("/v1/kv/missing")).StatusCode.Should().Be(HttpStatusCode.NotFound);

        // One request holds the only slot; the next is refused with 429, and the scrape is still served.
        var entered = new SemaphoreSlim(0);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        host.Service.Gate = async ct =>
        {
            entered.Release();
            await release.Task.WaitAsync(ct);
        };
        var blocked = host.Client.GetAsync("/v1/kv/k0");
        (await entered.WaitAsync(TimeSpan.FromSeconds(30))).Should().BeTrue();
        (await host.Client.GetAsync("/v1/kv/k1")).StatusCode.Should().Be(HttpStatusCode.TooManyRequests);
        var during = await PrometheusScrape.GetAsync(host.Client);
        release.SetResult();
        (await blocked).StatusCode.Should().Be(HttpStatusCode.OK);
        host.Service.Gate = null;

        during.Sum("lsmraft_api_rejections_total", ("status", "429"), ("reason", "overloaded")).Should().Be(1);
        during.Sum("http_server_active_requests").Should().BeGreaterThanOrEqualTo(1, "the held request is in flight");
        var after = await PrometheusScrape.GetAsync(host.Client);
        after.Sum("http_server_request_duration_seconds_count", ("http_route", "/v1/kv/{key}"), ("http_request_method", "PUT"), ("http_response_status_code", "200")).Should().Be(5);
        after.Sum("http_server_request_duration_seconds_count", ("http_route", "/v1/kv/{key}"), ("http_request_method", "GET"), ("http_response_status_code", "404")).Should().Be(1);
        after.Sum("http_server_request_duration_seconds_count", ("http_request_method", "GET"), ("http_response_status_code", "429")).Should().Be(1);
        after.Find("http_server_request_duration_seconds_bucket", ("http_route", "/v1/kv/{key}"), ("le", "+Inf")).Should().NotBeEmpty();
        after.Samples.Where(s => s.Name != "target_info").Should().OnlyContain(s => s.Labels["node"] == "7");
    }

    [Fact]
    public async Task Without_metrics_the_endpoint_answers_404()
    {
        await using var host = await ApiHost.StartAsync();
        (await host.Client.GetAsync("/metrics")).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }
}
