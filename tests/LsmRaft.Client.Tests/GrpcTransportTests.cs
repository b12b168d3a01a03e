using LsmRaft.Host.Api;
using LsmRaft.Host.Tests.Support;
using LsmRaft.Tests.Shared;

namespace LsmRaft.Client.Tests;

/// <summary>
/// The client over gRPC against Kestrel (REST and gRPC on one port): every operation answers as over REST, and
/// retries, deadlines and failover behave the same. Theories run each case over both transports.
/// </summary>
public sealed class GrpcTransportTests : IAsyncLifetime
{
    private KestrelApiHost _host = null!;

    public async Task InitializeAsync() => _host = await KestrelApiHost.StartAsync(new ApiOptions { MaxKeyBytes = 16, MaxValueBytes = 32, RetryAfterSeconds = 0 });

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private static byte[] B(string text) => Encoding.UTF8.GetBytes(text);

    private LsmRaftClient Client(LsmRaftTransport transport, TimeSpan? timeout = null, params Uri[] endpoints) => new(new LsmRaftClientOptions
    {
        Endpoints = endpoints.Length > 0 ? endpoints : [_host.Address],
        Transport = transport,
        Timeout = timeout ?? TimeSpan.FromSeconds(30),
        ScanPageSize = 3,
        Retry = new LsmRaftRetryPolicy { InitialBackoff = TimeSpan.FromMilliseconds(1), MaxBackoff = TimeSpan.FromMilliseconds(10), Seed = 7 },
    });

    [Theory]
    [InlineData(LsmRaftTransport.Http)]
    [InlineData(LsmRaftTransport.Grpc)]
    public async Task Every_operation_round_trips_with_the_same_answers_over_either_transport(LsmRaftTransport transport)
    {
        using var client = Client(transport);
        byte[] key = [(byte)'/', 0x00, 0xFF];

        ulong version = await client.PutAsync(key, [0xC3, 0x28]);
        var read = await client.GetAsync(key, Consistency.Lease);
        read!.Value.Should().Equal(0xC3, 0x28);
        read.Version.Should().Be(version);
        (await client.GetAsync(B("missing"))).Should().BeNull();

        ulong cas = await client.CompareAndSetAsync(key, version, B("next"));
        var conflict = await Assert.ThrowsAsync<LsmRaftVersionConflictException>(() => client.CompareAndSetAsync(key, version, B("late")));
        conflict.CurrentVersion.Should().Be(cas);
        conflict.ProblemType.Should().Be("urn:lsmraft:problem:version-conflict");
        (await client.CompareAndSetAsync(key, cas, null)).Should().Be(0);
        (await client.DeleteAsync(key)).Should().BeFalse();

        await client.BatchAsync([KvOperation.Put(B("b1"), B("1")), KvOperation.Put(B("b2"), B("2")), KvOperation.Delete(B("b3"))]);
        for (int i = 0; i < 7; i++)
            await client.PutAsync(B($"s{i}"), B($"{i}"));
        var scanned = await client.ScanAsync(new ScanOptions { Prefix = B("s"), Consistency = Consistency.Stale }).ToListAsync();
        scanned.Select(v => Encoding.UTF8.GetString(v.Key)).Should().Equal("s0", "s1", "s2", "s3", "s4", "s5", "s6");
        var page = await client.ScanPageAsync(new ScanOptions { Prefix = B("s") }, 2, null);
        page.Items.Should().HaveCount(2);
        var next = await client.ScanPageAsync(new ScanOptions { Prefix = B("s") }, 2, page.Continuation);
        next.Items.Select(v => Encoding.UTF8.GetString(v.Key)).Should().Equal("s2", "s3");
        (await client.ScanAsync(new ScanOptions { Start = B("b"), End = B("c"), Limit = 1 }).ToListAsync()).Should().ContainSingle();

        var view = await client.GetClusterAsync();
        view.Should().BeEquivalentTo(_host.Service.View);
    }

    [Theory]
    [InlineData(LsmRaftTransport.Http)]
    [InlineData(LsmRaftTransport.Grpc)]
    public async Task Bad_input_fails_with_the_same_typed_errors_over_either_transport(LsmRaftTransport transport)
    {
        using var client = Client(transport);

        (await Assert.ThrowsAsync<LsmRaftTooLargeException>(() => client.PutAsync(B(new string('k', 17)), B("v")))).Message.Should().Contain("MaxKeyBytes");
        (await Assert.ThrowsAsync<LsmRaftTooLargeException>(() => client.PutAsync(B("k"), new byte[33]))).Message.Should().Contain("MaxValueBytes");
        _host.Service.FailWith = new CrossShardBatchException(2);
        var batch = await Assert.ThrowsAsync<LsmRaftBadRequestException>(() => client.BatchAsync([KvOperation.Put(B("a"), B("1"))]));
        batch.ProblemType.Should().Be("urn:lsmraft:problem:cross-shard-batch");
        batch.StatusCode.Should().Be(400);
        _host.Service.FailWith = null;
        int calls = 0;
        _host.Service.Gate = _ =>
        {
            Interlocked.Increment(ref calls);
            return Task.FromException(new InvalidOperationException("a bug"));
        };
        var server = await Assert.ThrowsAsync<LsmRaftServerException>(() => client.GetAsync(B("k")));
        server.StatusCode.Should().Be(500);
        server.CorrelationId.Should().NotBeNullOrEmpty();
        calls.Should().Be(1, "a 500 is not retried");
    }

    [Theory]
    [InlineData(LsmRaftTransport.Http)]
    [InlineData(LsmRaftTransport.Grpc)]
    public async Task Unavailable_and_overloaded_answers_are_retried_as_the_operation_allows(LsmRaftTransport transport)
    {
        using var client = Client(transport);
        int calls = 0;
        Exception? failure = null;
        _host.Service.Gate = _ => Interlocked.Increment(ref calls) <= 2 && failure is { } f ? Task.FromException(f) : Task.CompletedTask;

        failure = new ShardUnavailableException(1, "no leader");
        (await client.PutAsync(B("k"), B("v"))).Should().BeGreaterThan(0);
        calls.Should().Be(3, "the put was retried twice after 503");

        calls = 0;
        var cas = await Assert.ThrowsAsync<LsmRaftUnavailableException>(() => client.CompareAndSetAsync(B("c"), 0, B("1")));
        cas.StatusCode.Should().Be(503);
        calls.Should().Be(1, "a compare-and-set that met 503 may have been applied, so it is not retried");

        calls = 0;
        failure = new OverloadedException("test");
        (await client.CompareAndSetAsync(B("c"), 0, B("1"))).Should().BeGreaterThan(0);
        calls.Should().Be(3, "429 proves nothing was applied");
    }

    [Theory]
    [InlineData(LsmRaftTransport.Http)]
    [InlineData(LsmRaftTransport.Grpc)]
    public async Task The_deadline_bounds_a_call_that_gets_no_answer(LsmRaftTransport transport)
    {
        using var client = Client(transport, TimeSpan.FromMilliseconds(500));
        _host.Service.Gate = ct => Task.Delay(Timeout.Infinite, ct);

        await Assert.ThrowsAsync<LsmRaftTimeoutException>(() => client.GetAsync(B("k")));

        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        using var patient = Client(transport, TimeSpan.FromSeconds(30));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => patient.GetAsync(B("k"), cancellationToken: cancel.Token));
    }

    [Theory]
    [InlineData(LsmRaftTransport.Http)]
    [InlineData(LsmRaftTransport.Grpc)]
    public async Task An_endpoint_that_refuses_connections_is_skipped_even_for_compare_and_set(LsmRaftTransport transport)
    {
        var dead = new Uri($"http://127.0.0.1:{LoopbackPorts.Free(1)[0]}");
        using var client = Client(transport, null, dead, _host.Address);

        (await client.CompareAndSetAsync(B("k"), 0, B("v"))).Should().BeGreaterThan(0);
        (await client.GetAsync(B("k")))!.Value.Should().Equal(B("v"));
    }
}
