using Google.Protobuf;
using Grpc.Core;
using LsmRaft.Host.Api;
using LsmRaft.Host.Api.Grpc;
using LsmRaft.Host.Tests.Support;
using LsmRaft.Protocol.Api.V1;
using ScanPage = LsmRaft.Protocol.Api.V1.ScanPage;
using ScanRequest = LsmRaft.Protocol.Api.V1.ScanRequest;

namespace LsmRaft.Host.Tests.Api;

/// <summary>The server-streaming scan: pages, limits, prefixes, continuations and message sizes.</summary>
public sealed class GrpcScanTests : IAsyncLifetime
{
    private KestrelApiHost _host = null!;
    private Kv.KvClient _kv = null!;

    public async Task InitializeAsync()
    {
        _host = await KestrelApiHost.StartAsync(new ApiOptions { MaxScanLimit = 50, DefaultScanLimit = 10 });
        _kv = new Kv.KvClient(_host.Channel);
        for (int i = 0; i < 25; i++)
            await _host.Service.PutAsync(Encoding.UTF8.GetBytes($"user{i:D2}"), Encoding.UTF8.GetBytes($"v{i}"), default);
        await _host.Service.PutAsync("zzz"u8.ToArray(), "last"u8.ToArray(), default);
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private async Task<List<ScanPage>> ScanAsync(ScanRequest request)
    {
        using var call = _kv.Scan(request);
        var pages = new List<ScanPage>();
        await foreach (var page in call.ResponseStream.ReadAllAsync())
            pages.Add(page);
        return pages;
    }

    private static string[] Keys(IEnumerable<ScanPage> pages) => pages.SelectMany(p => p.Items).Select(i => i.Key.ToStringUtf8()).ToArray();

    [Fact]
    public async Task A_prefix_scan_streams_pages_of_the_page_size_each_with_the_continuation_after_it()
    {
        var pages = await ScanAsync(new ScanRequest { Prefix = ByteString.CopyFromUtf8("user"), PageSize = 10 });

        pages.Select(p => p.Items.Count).Should().Equal(10, 10, 5);
        Keys(pages).Should().Equal(Enumerable.Range(0, 25).Select(i => $"user{i:D2}"));
        pages[0].Continuation.ToStringUtf8().Should().Be("user10");
        pages[1].Continuation.ToStringUtf8().Should().Be("user20");
        pages[2].Continuation.IsEmpty.Should().BeTrue("the last page says so");
        pages.SelectMany(p => p.Items).Should().OnlyContain(i => i.Version > 0);
    }

    [Fact]
    public async Task A_limit_ends_the_stream_and_its_continuation_resumes_the_scan_exactly_there()
    {
        var first = await ScanAsync(new ScanRequest { Limit = 13, PageSize = 5, Consistency = Consistency.Stale });
        Keys(first).Should().Equal(Enumerable.Range(0, 13).Select(i => $"user{i:D2}"));
        first.Select(p => p.Items.Count).Should().Equal(5, 5, 3);

        var rest = await ScanAsync(new ScanRequest { Continuation = first[^1].Continuation, PageSize = 50 });
        Keys(rest).Should().Equal(Enumerable.Range(13, 12).Select(i => $"user{i:D2}").Append("zzz"));
    }

    [Fact]
    public async Task The_default_page_size_applies_and_a_range_is_start_inclusive_end_exclusive()
    {
        var all = await ScanAsync(new ScanRequest());
        all.Select(p => p.Items.Count).Should().Equal(10, 10, 6);

        var range = await ScanAsync(new ScanRequest { Start = ByteString.CopyFromUtf8("user05"), End = ByteString.CopyFromUtf8("user08") });
        Keys(range).Should().Equal("user05", "user06", "user07");

        var empty = await ScanAsync(new ScanRequest { Start = ByteString.CopyFromUtf8("b"), End = ByteString.CopyFromUtf8("a") });
        empty.Should().ContainSingle().Which.Items.Should().BeEmpty();
    }

    [Fact]
    public async Task Bad_page_sizes_and_keys_are_refused_before_any_page()
    {
        var tooBig = await Assert.ThrowsAsync<RpcException>(() => ScanAsync(new ScanRequest { PageSize = 51 }));
        tooBig.StatusCode.Should().Be(StatusCode.InvalidArgument);
        tooBig.Status.Detail.Should().Contain("page_size").And.Contain("1 to 50");
        var longPrefix = await Assert.ThrowsAsync<RpcException>(() => ScanAsync(new ScanRequest { Prefix = ByteString.CopyFrom(new byte[64 * 1024 + 1]) }));
        longPrefix.StatusCode.Should().Be(StatusCode.InvalidArgument);
        longPrefix.Status.Detail.Should().Contain("prefix");
    }

    [Fact]
    public async Task Large_values_are_cut_into_messages_within_the_byte_budget_and_resume_without_loss()
    {
        var big = new byte[900 * 1024];
        for (int i = 0; i < 5; i++)
            await _host.Service.PutAsync(Encoding.UTF8.GetBytes($"big{i}"), big, default);

        var pages = await ScanAsync(new ScanRequest { Prefix = ByteString.CopyFromUtf8("big"), PageSize = 50 });

        Keys(pages).Should().Equal("big0", "big1", "big2", "big3", "big4");
        pages.Should().OnlyContain(p => p.Items.Sum(i => i.Key.Length + i.Value.Length) <= KvGrpcService.MessageBudgetBytes);
        pages.Select(p => p.Items.Count).Should().Equal(2, 2, 1);
        var resumed = await ScanAsync(new ScanRequest { Prefix = ByteString.CopyFromUtf8("big"), Continuation = pages[0].Continuation });
        Keys(resumed).Should().Equal("big2", "big3", "big4");
    }
}
