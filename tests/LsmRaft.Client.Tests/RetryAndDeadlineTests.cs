using System.Diagnostics;
using LsmRaft.Host.Tests.Support;

namespace LsmRaft.Client.Tests;

/// <summary>Retries within the deadline, which requests are retried, deadlines and cancellation.</summary>
public sealed class RetryAndDeadlineTests : IAsyncLifetime
{
    private ApiHost _host = null!;

    public async Task InitializeAsync() => _host = await ApiHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    /// <summary>Fast retries so tests do not wait out real backoffs; Retry-After is honoured but capped.</summary>
    private static LsmRaftRetryPolicy FastRetry(int attempts = 6) => new()
    {
        MaxAttempts = attempts,
        InitialBackoff = TimeSpan.FromMilliseconds(1),
        MaxBackoff = TimeSpan.FromMilliseconds(5),
        MaxRetryAfter = TimeSpan.FromMilliseconds(10),
        Seed = 12345,
    };

    private LsmRaftClient Client(HttpMessageHandler handler, LsmRaftRetryPolicy? retry = null, TimeSpan? timeout = null) =>
        new(new LsmRaftClientOptions { Handler = handler, Retry = retry ?? FastRetry(), Timeout = timeout ?? TimeSpan.FromSeconds(30) });

    private static byte[] B(string text) => Encoding.UTF8.GetBytes(text);

    [Theory]
    [InlineData(HttpStatusCode.ServiceUnavailable)]
    [InlineData(HttpStatusCode.TooManyRequests)]
    public async Task Idempotent_requests_are_retried_until_the_server_answers(HttpStatusCode status)
    {
        await _host.Service.PutAsync(B("k"), B("v"), default);
        using var failing = new FailingHandler(_host.Server.CreateHandler(), failures: 3, status);
        using var client = Client(failing);

        var entry = await client.GetAsync(B("k"));

        entry!.Value.Should().Equal(B("v"));
        failing.Requests.Should().HaveCount(4);
    }

    [Fact]
    public async Task Puts_deletes_and_batches_are_retried_on_503()
    {
        using var failing = new FailingHandler(_host.Server.CreateHandler(), failures: 2, HttpStatusCode.ServiceUnavailable);
        using var client = Client(failing);

        await client.PutAsync(B("p"), B("1"));
        failing.Requests.Should().HaveCount(3);
        (await _host.Service.GetAsync(B("p"), default, default))!.Value.Should().Equal(B("1"));
    }

    [Fact]
    public async Task When_retries_run_out_the_last_answer_is_reported_as_unavailable_with_its_retry_after()
    {
        using var failing = new FailingHandler(_host.Server.CreateHandler(), failures: 100, HttpStatusCode.ServiceUnavailable, retryAfterSeconds: 4);
        using var client = Client(failing, FastRetry(attempts: 3));

        var failure = await FluentActions.Invoking(() => client.GetAsync(B("k"))).Should().ThrowAsync<LsmRaftUnavailableException>();

        failure.Which.StatusCode.Should().Be(503);
        failure.Which.RetryAfter.Should().Be(TimeSpan.FromSeconds(4));
        failing.Requests.Should().HaveCount(3);
    }

    [Fact]
    public async Task Compare_and_set_is_not_retried_on_503_because_it_may_have_been_applied()
    {
        using var failing = new FailingHandler(_host.Server.CreateHandler(), failures: 1, HttpStatusCode.ServiceUnavailable);
        using var client = Client(failing);

        await FluentActions.Invoking(() => client.CompareAndSetAsync(B("c"), 0, B("v"))).Should().ThrowAsync<LsmRaftUnavailableException>();

        failing.Requests.Should().ContainSingle();
        (await _host.Service.GetAsync(B("c"), default, default)).Should().BeNull();
    }

    [Fact]
    public async Task Compare_and_set_is_retried_on_429_which_proves_it_was_not_applied()
    {
        using var failing = new FailingHandler(_host.Server.CreateHandler(), failures: 2, HttpStatusCode.TooManyRequests);
        using var client = Client(failing);

        ulong version = await client.CompareAndSetAsync(B("c"), 0, B("v"));

        version.Should().BeGreaterThan(0);
        failing.Requests.Should().HaveCount(3);
    }

    [Fact]
    public async Task A_500_is_not_retried()
    {
        _host.Service.FailWith = new InvalidOperationException("broken");
        using var counting = new FailingHandler(_host.Server.CreateHandler(), failures: 0, HttpStatusCode.OK);
        using var client = Client(counting);

        await FluentActions.Invoking(() => client.GetAsync(B("k"))).Should().ThrowAsync<LsmRaftServerException>();
        counting.Requests.Should().ContainSingle();
    }

    [Fact]
    public async Task The_deadline_bounds_a_request_that_gets_no_answer()
    {
        using var silent = new SilentHandler();
        using var client = Client(silent, timeout: TimeSpan.FromMilliseconds(200));
        var watch = Stopwatch.StartNew();

        var failure = await FluentActions.Invoking(() => client.GetAsync(B("k"))).Should().ThrowAsync<LsmRaftTimeoutException>();

        failure.Which.Message.Should().Contain("200 ms");
        watch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task Retries_stop_when_the_next_wait_would_pass_the_deadline()
    {
        using var failing = new FailingHandler(_host.Server.CreateHandler(), failures: 100, HttpStatusCode.ServiceUnavailable, retryAfterSeconds: 30);
        var retry = new LsmRaftRetryPolicy { MaxAttempts = 10, MaxRetryAfter = TimeSpan.FromSeconds(30), Seed = 1 };
        using var client = Client(failing, retry, timeout: TimeSpan.FromSeconds(5));

        await FluentActions.Invoking(() => client.GetAsync(B("k"))).Should().ThrowAsync<LsmRaftUnavailableException>();

        failing.Requests.Should().ContainSingle("a 30 s Retry-After does not fit in a 5 s deadline");
    }

    [Fact]
    public async Task Cancellation_by_the_caller_is_an_operation_canceled_exception_not_a_timeout()
    {
        using var silent = new SilentHandler();
        using var client = Client(silent);
        using var cts = new CancellationTokenSource();

        var pending = client.GetAsync(B("k"), cancellationToken: cts.Token);
        (await silent.Entered.WaitAsync(TimeSpan.FromSeconds(30))).Should().BeTrue();
        await cts.CancelAsync();

        var failure = await FluentActions.Awaiting(() => pending).Should().ThrowAsync<OperationCanceledException>();
        failure.Which.Should().NotBeOfType<LsmRaftTimeoutException>();
    }

    [Fact]
    public void Backoff_grows_exponentially_with_seeded_jitter_and_honours_retry_after_up_to_its_cap()
    {
        var policy = new LsmRaftRetryPolicy
        {
            InitialBackoff = TimeSpan.FromMilliseconds(100),
            MaxBackoff = TimeSpan.FromMilliseconds(1000),
            Multiplier = 2,
            Jitter = 0.5,
            MaxRetryAfter = TimeSpan.FromSeconds(3),
            Seed = 42,
        };
        using var a = new LsmRaftClient(new LsmRaftClientOptions { Retry = policy });
        using var b = new LsmRaftClient(new LsmRaftClientOptions { Retry = policy });

        var delays = Enumerable.Range(1, 6).Select(n => a.ComputeDelay(n, null)).ToList();

        delays.Should().Equal(Enumerable.Range(1, 6).Select(n => b.ComputeDelay(n, null)), "the same seed gives the same jitter");
        double[] ceilings = [100, 200, 400, 800, 1000, 1000];
        for (int i = 0; i < delays.Count; i++)
            delays[i].TotalMilliseconds.Should().BeInRange(ceilings[i] * 0.5, ceilings[i], $"retry {i + 1}");
        a.ComputeDelay(1, TimeSpan.FromSeconds(2)).Should().Be(TimeSpan.FromSeconds(2));
        a.ComputeDelay(1, TimeSpan.FromSeconds(60)).Should().Be(TimeSpan.FromSeconds(3));
        a.ComputeDelay(5, TimeSpan.Zero).TotalMilliseconds.Should().BeInRange(500, 1000);
    }

    [Fact]
    public void Invalid_retry_policies_are_rejected()
    {
        FluentActions.Invoking(() => new LsmRaftClient(new LsmRaftClientOptions { Retry = new LsmRaftRetryPolicy { MaxAttempts = 0 } })).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new LsmRaftClient(new LsmRaftClientOptions { Retry = new LsmRaftRetryPolicy { Jitter = 2 } })).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new LsmRaftClient(new LsmRaftClientOptions { Timeout = TimeSpan.Zero })).Should().Throw<ArgumentOutOfRangeException>();
    }
}
