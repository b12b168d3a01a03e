using System.Diagnostics.Metrics;
using LsmRaft.Host.Monitoring;
using LsmRaft.Host.Tests.Support;

namespace LsmRaft.Host.Tests.Monitoring;

public sealed class TrafficMeterTests
{
    [Theory]
    [InlineData("/v1/kv/{key}", "GET", "get")]
    [InlineData("/v1/kv/{key}", "PUT", "put")]
    [InlineData("/v1/kv/{key}", "DELETE", "delete")]
    [InlineData("/v1/kv/{key}/cas", "POST", "cas")]
    [InlineData("/v1/kv", "GET", "scan")]
    [InlineData("/v1/batch", "POST", "batch")]
    [InlineData("/v0/entity", "GET", "get")]
    [InlineData("/v0/entity", "PUT", "put")]
    [InlineData("/v0/entity", "DELETE", "delete")]
    [InlineData("/lsmraft.v1.Kv/Get", "POST", "get")]
    [InlineData("/lsmraft.v1.Kv/CompareAndSet", "POST", "cas")]
    [InlineData("/lsmraft.v1.Kv/Scan", "POST", "scan")]
    [InlineData("/lsmraft.v1.Cluster/ClusterInfo", "POST", null)]
    [InlineData("/v1/cluster", "GET", null)]
    [InlineData("/v1/events", "GET", null)]
    [InlineData("/v1/admin/shards/{shardId}/split", "POST", null)]
    [InlineData(null, "GET", null)]
    public void Routes_map_to_operations(string? route, string method, string? operation) =>
        TrafficMeter.OperationOf(route, method).Should().Be(operation);

    [Fact]
    public async Task Requests_served_by_the_api_become_a_sample_with_rates_percentiles_and_rejections()
    {
        await using var host = await ApiHost.StartAsync(new LsmRaft.Host.Api.ApiOptions { MaxInFlightRequests = 1 });
        long stalls = 3;
        var start = DateTimeOffset.UtcNow;
        using var meter = new TrafficMeter(5, host.Server.Services.GetRequiredService<IMeterFactory>(), () => stalls, start);

        for (int i = 0; i < 10; i++)
            (await host.Client.PutAsync($"/v1/kv/k{i}", Http.Octets([1, 2, 3]))).EnsureSuccessStatusCode();
        for (int i = 0; i < 4; i++)
            (await host.Client.GetAsync($"/v1/kv/k{i}")).EnsureSuccessStatusCode();
        (await host.Client.GetAsync("/v1/cluster")).EnsureSuccessStatusCode(); // not a data operation
        // A request held in the service fills the one admission slot: the next one is answered 429.
        var entered = new SemaphoreSlim(0);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        host.Service.Gate = async ct =>
        {
            entered.Release();
            await release.Task.WaitAsync(ct);
        };
        var held = host.Client.GetAsync("/v1/kv/k1");
        (await entered.WaitAsync(TimeSpan.FromSeconds(30))).Should().BeTrue("the held request reaches the service");
        (await host.Client.GetAsync("/v1/kv/k2")).StatusCode.Should().Be(HttpStatusCode.TooManyRequests);
        release.SetResult();
        (await held).EnsureSuccessStatusCode();
        stalls = 7;

        var sample = meter.Roll(start.AddSeconds(2));

        sample.NodeId.Should().Be(5UL);
        sample.Seconds.Should().Be(2);
        sample.Operations["put"].Count.Should().Be(10);
        sample.Operations["put"].PerSecond.Should().Be(5);
        sample.Operations["get"].Count.Should().Be(6, "four reads, the held read and the rejected one");
        sample.Operations["put"].P50Ms.Should().BeGreaterThan(0).And.BeLessThanOrEqualTo(sample.Operations["put"].P99Ms);
        sample.Operations["put"].P99Ms.Should().BeLessThanOrEqualTo(sample.Operations["put"].MaxMs * 1.01);
        sample.Operations["delete"].Count.Should().Be(0);
        sample.Rejected429PerSecond.Should().Be(0.5);
        sample.Unavailable503PerSecond.Should().Be(0);
        sample.WriteStallsPerSecond.Should().Be(2);
        meter.Latest.Should().Be(sample);

        var next = meter.Roll(start.AddSeconds(3));
        next.Operations.Values.Should().OnlyContain(o => o.Count == 0, "each sample counts only its own interval");
        meter.History.Should().Equal(sample, next);
    }
}
