using LsmRaft.Host.Api;
using LsmRaft.Host.Tests.Support;

namespace LsmRaft.Host.Tests.Api;

public sealed class AdmissionControlTests
{
    [Fact]
    public async Task The_request_beyond_the_in_flight_limit_is_answered_429_at_once_and_probes_stay_served()
    {
        const int limit = 3;
        await using var host = await ApiHost.StartAsync(new ApiOptions { MaxInFlightRequests = limit, RetryAfterSeconds = 2 });
        var entered = new SemaphoreSlim(0);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        host.Service.Gate = async ct =>
        {
            entered.Release();
            await release.Task.WaitAsync(ct);
        };

        var blocked = Enumerable.Range(0, limit).Select(_ => host.Client.GetAsync("/v1/kv/k")).ToList();
        for (int i = 0; i < limit; i++)
            (await entered.WaitAsync(TimeSpan.FromSeconds(30))).Should().BeTrue("request {0} should reach the service", i);

        var rejected = await host.Client.GetAsync("/v1/kv/k");
        var problem = await rejected.ProblemAsync(HttpStatusCode.TooManyRequests);
        problem.GetProperty("detail").GetString().Should().Contain("MaxInFlightRequests");
        rejected.Headers.RetryAfter!.Delta.Should().Be(TimeSpan.FromSeconds(2));
        (await host.Client.GetAsync("/healthz")).StatusCode.Should().Be(HttpStatusCode.OK);
        (await host.Client.GetAsync("/readyz")).StatusCode.Should().Be(HttpStatusCode.OK);

        release.SetResult();
        foreach (var response in await Task.WhenAll(blocked))
            response.StatusCode.Should().Be(HttpStatusCode.NotFound);

        host.Service.Gate = null;
        (await host.Client.GetAsync("/v1/kv/k")).StatusCode.Should().Be(HttpStatusCode.NotFound, "slots are returned when requests finish");
    }

    [Fact]
    public void Slots_are_released_on_exit_and_never_exceed_the_limit()
    {
        var admission = new AdmissionControl(new ApiOptions { MaxInFlightRequests = 2 });

        admission.TryEnter().Should().BeTrue();
        admission.TryEnter().Should().BeTrue();
        admission.TryEnter().Should().BeFalse();
        admission.InFlight.Should().Be(2);
        admission.Exit();
        admission.TryEnter().Should().BeTrue();
        admission.InFlight.Should().Be(2);
    }
}
