using LsmRaft.Host.Api;
using LsmRaft.Host.Tests.Support;

namespace LsmRaft.Client.Tests;

/// <summary>The client's operations against the in-process API server.</summary>
public sealed class LsmRaftClientTests : IAsyncLifetime
{
    private ApiHost _host = null!;
    private LsmRaftClient _client = null!;

    public async Task InitializeAsync()
    {
        _host = await ApiHost.StartAsync(services: s => s.AddSingleton<IClusterAdmin>(sp => new RecordingClusterAdmin((EngineKvService)sp.GetRequiredService<IKvService>())));
        _client = new LsmRaftClient(new LsmRaftClientOptions { Handler = _host.Server.CreateHandler(), ScanPageSize = 4 });
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _host.DisposeAsync();
    }

    private static byte[] B(string text) => Encoding.UTF8.GetBytes(text);

    [Fact]
    public async Task Put_get_delete_round_trip()
    {
        ulong version = await _client.PutAsync(B("k"), B("v"));

        var entry = await _client.GetAsync(B("k"));
        entry!.Value.Should().Equal(B("v"));
        entry.Key.Should().Equal(B("k"));
        entry.Version.Should().Be(version);

        (await _client.DeleteAsync(B("k"))).Should().BeTrue();
        (await _client.GetAsync(B("k"))).Should().BeNull();
        (await _client.DeleteAsync(B("k"))).Should().BeFalse();
    }

    [Fact]
    public async Task Binary_keys_and_values_survive_the_trip_including_slashes_and_invalid_utf8()
    {
        byte[] key = [(byte)'/', 0x00, 0xFF, (byte)'?', (byte)'%'];
        byte[] value = [0xC3, 0x28, 0x00, 0xFF];

        await _client.PutAsync(key, value);

        (await _client.GetAsync(key, Consistency.Stale))!.Value.Should().Equal(value);
        (await _host.Service.GetAsync(key, ReadConsistency.Linearizable, default))!.Value.Should().Equal(value);
    }

    [Fact]
    public async Task Compare_and_set_creates_updates_and_reports_the_current_version_on_conflict()
    {
        ulong v1 = await _client.CompareAndSetAsync(B("c"), 0, B("1"));
        ulong v2 = await _client.CompareAndSetAsync(B("c"), v1, B("2"));

        var conflict = await FluentActions.Invoking(() => _client.CompareAndSetAsync(B("c"), v1, B("3"))).Should().ThrowAsync<LsmRaftVersionConflictException>();
        conflict.Which.CurrentVersion.Should().Be(v2);
        conflict.Which.StatusCode.Should().Be(409);

        (await _client.CompareAndSetAsync(B("c"), v2, null)).Should().Be(0UL);
        (await _client.GetAsync(B("c"))).Should().BeNull();
    }

    [Fact]
    public async Task Batch_applies_every_operation()
    {
        await _client.PutAsync(B("gone"), B("x"));

        await _client.BatchAsync([KvOperation.Put(B("a"), B("1")), KvOperation.Put([0xFF], [0xFE]), KvOperation.Delete(B("gone"))]);

        (await _client.GetAsync(B("a")))!.Value.Should().Equal(B("1"));
        (await _client.GetAsync([0xFF]))!.Value.Should().Equal([0xFE]);
        (await _client.GetAsync(B("gone"))).Should().BeNull();
    }

    [Fact]
    public async Task Scan_streams_every_key_in_order_across_pages()
    {
        var keys = Enumerable.Range(0, 11).Select(i => $"s{i:D2}").ToList();
        foreach (var key in keys)
            await _client.PutAsync(B(key), B("v" + key));
        await _client.PutAsync(B("t"), B("other"));

        var seen = new List<string>();
        await foreach (var entry in _client.ScanAsync(new ScanOptions { Prefix = B("s") }))
        {
            entry.Value.Should().Equal(B("v" + Encoding.UTF8.GetString(entry.Key)));
            seen.Add(Encoding.UTF8.GetString(entry.Key));
        }

        seen.Should().Equal(keys);
    }

    [Fact]
    public async Task Scan_honours_limit_start_and_end()
    {
        foreach (var key in new[] { "a", "b", "c", "d", "e", "f", "g" })
            await _client.PutAsync(B(key), B(key));

        var limited = new List<string>();
        await foreach (var entry in _client.ScanAsync(new ScanOptions { Start = B("b"), End = B("g"), Limit = 5 }))
            limited.Add(Encoding.UTF8.GetString(entry.Key));
        limited.Should().Equal("b", "c", "d", "e", "f");

        var page = await _client.ScanPageAsync(new ScanOptions(), 3, null);
        page.Items.Select(i => Encoding.UTF8.GetString(i.Key)).Should().Equal("a", "b", "c");
        var next = await _client.ScanPageAsync(new ScanOptions(), 3, page.Continuation);
        next.Items.Select(i => Encoding.UTF8.GetString(i.Key)).Should().Equal("d", "e", "f");
    }

    [Fact]
    public async Task Cancelling_a_scan_stops_it()
    {
        for (int i = 0; i < 10; i++)
            await _client.PutAsync(B($"x{i}"), B("v"));
        using var cts = new CancellationTokenSource();

        var read = new List<KvValue>();
        var act = async () =>
        {
            await foreach (var entry in _client.ScanAsync(new ScanOptions(), cts.Token))
            {
                read.Add(entry);
                if (read.Count == 2)
                    await cts.CancelAsync();
            }
        };

        await act.Should().ThrowAsync<OperationCanceledException>();
        read.Should().HaveCountLessThan(10);
    }

    [Fact]
    public async Task Cluster_view_and_admin_operations()
    {
        var view = await _client.GetClusterAsync();
        view.ClusterId.Should().Be("test-cluster");
        view.Nodes[1].State.Should().Be(LsmRaft.Protocol.Cluster.NodeState.Down);
        view.Shards[1].RangeEnd.Should().Be(ulong.MaxValue);

        (await _client.SplitShardAsync(1)).Shards.Should().HaveCount(3);
        (await _client.TransferLeaderAsync(2, 2)).Shards.Single(s => s.Id == 2).Leader.Should().Be(2UL);
        await FluentActions.Invoking(() => _client.MoveReplicaAsync(2, 2, 1)).Should().ThrowAsync<LsmRaftOperationConflictException>().WithMessage("*already holds*");
        await FluentActions.Invoking(() => _client.MoveReplicaAsync(2, 2, 5)).Should().ThrowAsync<LsmRaftNotFoundException>();
        (await _client.MoveReplicaAsync(2, 2, 3)).Shards.Single(s => s.Id == 2).Replicas.Should().Equal(1UL, 3UL);

        await FluentActions.Invoking(() => _client.SplitShardAsync(42)).Should().ThrowAsync<LsmRaftNotFoundException>().WithMessage("*Shard 42*");
    }

    [Fact]
    public async Task Errors_arrive_as_typed_exceptions_with_the_servers_detail()
    {
        await FluentActions.Invoking(() => _client.PutAsync(new byte[70 * 1024], B("v"))).Should().ThrowAsync<LsmRaftTooLargeException>().WithMessage("*MaxKeyBytes*");

        _host.Service.FailWith = new CrossShardBatchException(3);
        await FluentActions.Invoking(() => _client.BatchAsync([KvOperation.Delete(B("a"))])).Should().ThrowAsync<LsmRaftBadRequestException>().WithMessage("*3 shards*");

        _host.Service.FailWith = new InvalidOperationException("boom");
        var server = await FluentActions.Invoking(() => _client.GetAsync(B("a"))).Should().ThrowAsync<LsmRaftServerException>();
        server.Which.StatusCode.Should().Be(500);
        server.Which.CorrelationId.Should().NotBeNullOrEmpty();
    }

    [Fact]
    public async Task Empty_keys_are_rejected_before_sending()
    {
        await FluentActions.Invoking(() => _client.GetAsync([])).Should().ThrowAsync<ArgumentException>();
    }
}
