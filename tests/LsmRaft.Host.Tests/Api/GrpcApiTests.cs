using Google.Protobuf;
using Google.Rpc;
using Grpc.Core;
using LsmRaft.Host.Api;
using LsmRaft.Host.Tests.Support;
using LsmRaft.Protocol.Api.V1;

namespace LsmRaft.Host.Tests.Api;

/// <summary>Every RPC of lsmraft.v1 against Kestrel, with the REST API's limits, consistency levels and errors.</summary>
public sealed class GrpcApiTests : IAsyncLifetime
{
    private static readonly ApiOptions Limits = new() { MaxKeyBytes = 16, MaxValueBytes = 32, MaxBatchOperations = 4, MaxScanLimit = 50, DefaultScanLimit = 10 };
    private KestrelApiHost _host = null!;
    private Kv.KvClient _kv = null!;

    public async Task InitializeAsync()
    {
        _host = await KestrelApiHost.StartAsync(Limits);
        _kv = new Kv.KvClient(_host.Channel);
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private static ByteString B(string text) => ByteString.CopyFromUtf8(text);

    [Fact]
    public async Task Put_get_delete_round_trip_binary_keys_and_values_with_versions()
    {
        byte[] key = [0x00, 0x2F, 0xFF];
        byte[] value = [0xC3, 0x28, 0x00];

        var put = await _kv.PutAsync(new PutRequest { Key = ByteString.CopyFrom(key), Value = ByteString.CopyFrom(value) });
        var get = await _kv.GetAsync(new GetRequest { Key = ByteString.CopyFrom(key) });
        get.Item.Key.ToByteArray().Should().Equal(key);
        get.Item.Value.ToByteArray().Should().Equal(value);
        get.Item.Version.Should().Be(put.Version).And.BeGreaterThan(0);

        foreach (var consistency in new[] { Consistency.Unspecified, Consistency.Linearizable, Consistency.Lease, Consistency.Stale })
            (await _kv.GetAsync(new GetRequest { Key = ByteString.CopyFrom(key), Consistency = consistency })).Item.Version.Should().Be(put.Version);

        await _kv.DeleteAsync(new DeleteRequest { Key = ByteString.CopyFrom(key) });
        (await _host.Service.GetAsync(key, ReadConsistency.Linearizable, default)).Should().BeNull();
        var empty = await _kv.PutAsync(new PutRequest { Key = B("empty") });
        (await _kv.GetAsync(new GetRequest { Key = B("empty") })).Item.Value.IsEmpty.Should().BeTrue("a value of 0 bytes is a value");
        empty.Version.Should().BeGreaterThan(put.Version);
    }

    [Fact]
    public async Task Compare_and_set_creates_updates_and_deletes_only_at_the_expected_version()
    {
        var created = await _kv.CompareAndSetAsync(new CompareAndSetRequest { Key = B("c"), ExpectedVersion = 0, Value = B("1") });
        var updated = await _kv.CompareAndSetAsync(new CompareAndSetRequest { Key = B("c"), ExpectedVersion = created.Version, Value = B("2") });
        (await _kv.GetAsync(new GetRequest { Key = B("c") })).Item.Value.ToStringUtf8().Should().Be("2");

        var conflict = await Assert.ThrowsAsync<RpcException>(() =>
            _kv.CompareAndSetAsync(new CompareAndSetRequest { Key = B("c"), ExpectedVersion = created.Version, Value = B("3") }).ResponseAsync);
        var info = Expect(conflict, StatusCode.Aborted, "VERSION_CONFLICT", 409);
        info.Metadata["currentVersion"].Should().Be(updated.Version.ToString(System.Globalization.CultureInfo.InvariantCulture));
        conflict.Status.Detail.Should().Contain($"current version is {updated.Version}");

        var deleted = await _kv.CompareAndSetAsync(new CompareAndSetRequest { Key = B("c"), ExpectedVersion = updated.Version });
        deleted.Version.Should().Be(0);
        (await _host.Service.GetAsync("c"u8.ToArray(), ReadConsistency.Linearizable, default)).Should().BeNull();
    }

    [Fact]
    public async Task Batch_applies_puts_and_deletes_and_refuses_bad_batches_whole()
    {
        await _kv.PutAsync(new PutRequest { Key = B("gone"), Value = B("x") });
        var batch = new BatchRequest
        {
            Operations =
            {
                new Protocol.Api.V1.BatchOperation { Put = new PutOperation { Key = B("b1"), Value = B("1") } },
                new Protocol.Api.V1.BatchOperation { Put = new PutOperation { Key = B("b2"), Value = B("2") } },
                new Protocol.Api.V1.BatchOperation { Delete = new DeleteOperation { Key = B("gone") } },
            },
        };
        (await _kv.BatchAsync(batch)).Applied.Should().Be(3);
        (await _kv.GetAsync(new GetRequest { Key = B("b2") })).Item.Value.ToStringUtf8().Should().Be("2");
        (await _host.Service.GetAsync("gone"u8.ToArray(), ReadConsistency.Linearizable, default)).Should().BeNull();

        Expect(await FailsAsync(() => _kv.BatchAsync(new BatchRequest()).ResponseAsync), StatusCode.InvalidArgument, "BAD_REQUEST", 400)
            .Should().NotBeNull();
        var tooMany = new BatchRequest();
        for (int i = 0; i < Limits.MaxBatchOperations + 1; i++)
            tooMany.Operations.Add(new Protocol.Api.V1.BatchOperation { Delete = new DeleteOperation { Key = B($"k{i}") } });
        Expect(await FailsAsync(() => _kv.BatchAsync(tooMany).ResponseAsync), StatusCode.InvalidArgument, "TOO_LARGE", 413);
        var unset = new BatchRequest { Operations = { new Protocol.Api.V1.BatchOperation { Put = new PutOperation { Key = B("ok"), Value = B("1") } }, new Protocol.Api.V1.BatchOperation() } };
        var noOp = await FailsAsync(() => _kv.BatchAsync(unset).ResponseAsync);
        Expect(noOp, StatusCode.InvalidArgument, "BAD_REQUEST", 400);
        noOp.Status.Detail.Should().Contain("Operation 1");
        (await _host.Service.GetAsync("ok"u8.ToArray(), ReadConsistency.Linearizable, default)).Should().BeNull("a refused batch applies nothing");

        _host.Service.FailWith = new CrossShardBatchException(2);
        Expect(await FailsAsync(() => _kv.BatchAsync(batch).ResponseAsync), StatusCode.InvalidArgument, "CROSS_SHARD_BATCH", 400);
    }

    [Fact]
    public async Task Bad_keys_oversize_values_and_bad_consistency_are_invalid_arguments_naming_the_limit()
    {
        Expect(await FailsAsync(() => _kv.GetAsync(new GetRequest()).ResponseAsync), StatusCode.InvalidArgument, "BAD_REQUEST", 400)
            .Metadata["type"].Should().Be("urn:lsmraft:problem:bad-request");
        var longKey = await FailsAsync(() => _kv.PutAsync(new PutRequest { Key = B(new string('k', 17)), Value = B("v") }).ResponseAsync);
        Expect(longKey, StatusCode.InvalidArgument, "TOO_LARGE", 413);
        longKey.Status.Detail.Should().Contain("MaxKeyBytes");
        var bigValue = await FailsAsync(() => _kv.PutAsync(new PutRequest { Key = B("k"), Value = B(new string('v', 33)) }).ResponseAsync);
        Expect(bigValue, StatusCode.InvalidArgument, "TOO_LARGE", 413);
        bigValue.Status.Detail.Should().Contain("MaxValueBytes");
        Expect(await FailsAsync(() => _kv.CompareAndSetAsync(new CompareAndSetRequest { Key = B("k"), Value = B(new string('v', 33)) }).ResponseAsync),
            StatusCode.InvalidArgument, "TOO_LARGE", 413);
        var consistency = await FailsAsync(() => _kv.GetAsync(new GetRequest { Key = B("k"), Consistency = (Consistency)9 }).ResponseAsync);
        Expect(consistency, StatusCode.InvalidArgument, "BAD_REQUEST", 400);
        consistency.Status.Detail.Should().Contain("CONSISTENCY_STALE");
        (await _host.Service.GetAsync("k"u8.ToArray(), ReadConsistency.Linearizable, default)).Should().BeNull("nothing was written");
    }

    [Fact]
    public async Task Missing_keys_are_not_found_for_get_and_delete()
    {
        Expect(await FailsAsync(() => _kv.GetAsync(new GetRequest { Key = B("nope") }).ResponseAsync), StatusCode.NotFound, "NOT_FOUND", 404);
        Expect(await FailsAsync(() => _kv.DeleteAsync(new DeleteRequest { Key = B("nope") }).ResponseAsync), StatusCode.NotFound, "NOT_FOUND", 404);
    }

    [Fact]
    public async Task Service_failures_map_to_the_codes_of_their_rest_statuses_with_retry_info()
    {
        _host.Service.FailWith = new ShardUnavailableException(7, "no leader");
        var unavailable = await FailsAsync(() => _kv.GetAsync(new GetRequest { Key = B("k") }).ResponseAsync);
        Expect(unavailable, StatusCode.Unavailable, "SHARD_UNAVAILABLE", 503);
        unavailable.GetRpcStatus()!.GetDetail<RetryInfo>()!.RetryDelay.ToTimeSpan().Should().Be(TimeSpan.FromSeconds(1));

        _host.Service.FailWith = new InvalidOperationException("a bug");
        var internalError = await FailsAsync(() => _kv.PutAsync(new PutRequest { Key = B("k"), Value = B("v") }).ResponseAsync);
        var info = Expect(internalError, StatusCode.Internal, "INTERNAL", 500);
        string correlationId = info.Metadata["correlationId"];
        internalError.Status.Detail.Should().NotContain("a bug", "internals stay in the server's log");
        _host.Log.Entries.Should().Contain(e => e.Level == LogLevel.Error && e.Message.Contains(correlationId) && e.Exception is InvalidOperationException);
    }

    [Fact]
    public async Task A_call_beyond_the_in_flight_limit_is_resource_exhausted_at_once()
    {
        await using var host = await KestrelApiHost.StartAsync(new ApiOptions { MaxInFlightRequests = 1, RetryAfterSeconds = 2 });
        var kv = new Kv.KvClient(host.Channel);
        var entered = new SemaphoreSlim(0);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        host.Service.Gate = async ct =>
        {
            entered.Release();
            await release.Task.WaitAsync(ct);
        };
        var blocked = kv.PutAsync(new PutRequest { Key = B("k"), Value = B("v") }).ResponseAsync;
        (await entered.WaitAsync(TimeSpan.FromSeconds(30))).Should().BeTrue();

        var rejected = await FailsAsync(() => kv.GetAsync(new GetRequest { Key = B("k") }).ResponseAsync);
        var info = Expect(rejected, StatusCode.ResourceExhausted, "OVERLOADED", 429);
        rejected.Status.Detail.Should().Contain("MaxInFlightRequests");
        rejected.GetRpcStatus()!.GetDetail<RetryInfo>()!.RetryDelay.ToTimeSpan().Should().Be(TimeSpan.FromSeconds(2));
        info.Domain.Should().Be("lsmraft");

        release.SetResult();
        (await blocked).Version.Should().BeGreaterThan(0);
        host.Service.Gate = null;
        (await kv.GetAsync(new GetRequest { Key = B("k") })).Item.Value.ToStringUtf8().Should().Be("v");
    }

    [Fact]
    public async Task A_deadline_cancels_the_service_call_and_ends_with_deadline_exceeded()
    {
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _host.Service.Gate = async ct =>
        {
            entered.TrySetResult();
            try
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
            finally
            {
                cancelled.TrySetResult();
            }
        };

        // Long enough for the call to reach the service on a loaded machine; the service never answers.
        var call = _kv.GetAsync(new GetRequest { Key = B("k") }, deadline: DateTime.UtcNow.AddSeconds(3));

        await entered.Task.WaitAsync(TimeSpan.FromSeconds(30));
        (await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync)).StatusCode.Should().Be(StatusCode.DeadlineExceeded);
        await cancelled.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task Cluster_info_answers_the_cluster_view()
    {
        var info = await new Protocol.Api.V1.Cluster.ClusterClient(_host.Channel).ClusterInfoAsync(new ClusterInfoRequest());

        var view = _host.Service.View;
        info.ClusterId.Should().Be(view.ClusterId);
        info.MapVersion.Should().Be(view.MapVersion);
        info.Nodes.Select(n => (n.Id, n.HttpAddress, n.State)).Should().Equal(
            (1UL, "http://127.0.0.1:8081", NodeState.Up), (2UL, "http://127.0.0.1:8083", NodeState.Down), (3UL, "http://127.0.0.1:8085", NodeState.Up));
        info.Nodes[1].LastHeartbeat.Should().BeNull();
        info.Shards.Select(s => (s.Id, s.HasLeader ? s.Leader : 0UL, s.Epoch)).Should().Equal((1UL, 1UL, 2UL), (2UL, 0UL, 5UL));
        Protocol.Cluster.ClusterViewMessages.FromMessage(info).Should().BeEquivalentTo(view);
    }

    private static async Task<RpcException> FailsAsync(Func<Task> call) => await Assert.ThrowsAsync<RpcException>(call);

    /// <summary>Asserts the status code and the lsmraft ErrorInfo; returns the ErrorInfo.</summary>
    private static ErrorInfo Expect(RpcException exception, StatusCode code, string reason, int httpStatus)
    {
        exception.StatusCode.Should().Be(code, exception.Status.Detail);
        exception.Status.Detail.Should().NotBeNullOrEmpty();
        var info = exception.GetRpcStatus()?.GetDetail<ErrorInfo>();
        info.Should().NotBeNull("every error carries google.rpc.ErrorInfo");
        info!.Domain.Should().Be("lsmraft");
        info.Reason.Should().Be(reason);
        info.Metadata["httpStatus"].Should().Be(httpStatus.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return info;
    }
}
