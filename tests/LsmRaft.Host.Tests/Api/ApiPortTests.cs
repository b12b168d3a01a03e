using System.Buffers;
using System.Net.Sockets;
using Google.Protobuf;
using LsmRaft.Host.Api.Listening;
using LsmRaft.Host.Tests.Support;
using LsmRaft.Protocol.Api.V1;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace LsmRaft.Host.Tests.Api;

/// <summary>REST (HTTP/1.1 and HTTP/2), the origin's /v0/entity and gRPC on one cleartext port.</summary>
public sealed class ApiPortTests : IAsyncLifetime
{
    private KestrelApiHost _host = null!;

    public async Task InitializeAsync() => _host = await KestrelApiHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task Rest_over_http1_and_http2_the_origin_api_and_grpc_serve_the_same_data_on_one_port()
    {
        var kv = new Kv.KvClient(_host.Channel);

        var restPut = await _host.Http1.PutAsync("/v1/kv/shared", Http.Octets("from-rest"u8.ToArray()));
        restPut.Version.Should().Be(HttpVersion.Version11);
        var written = await restPut.JsonAsync();
        var viaGrpc = await kv.GetAsync(new GetRequest { Key = ByteString.CopyFromUtf8("shared") });
        viaGrpc.Item.Value.ToStringUtf8().Should().Be("from-rest");
        viaGrpc.Item.Version.Should().Be(written.GetProperty("version").GetUInt64());

        await kv.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8("from-grpc"), Value = ByteString.CopyFromUtf8("v") });
        var restGet = await _host.Http1.GetAsync("/v1/kv/from-grpc");
        (await restGet.JsonAsync()).GetProperty("value").GetString().Should().Be("v");

        var h2Get = await _host.Http2.GetAsync("/v1/kv/from-grpc");
        h2Get.Version.Should().Be(HttpVersion.Version20, "an HTTP/2 client with prior knowledge is served HTTP/2");
        (await h2Get.JsonAsync()).GetProperty("value").GetString().Should().Be("v");

        (await _host.Http1.PutAsync("/v0/entity?id=origin", Http.Octets("o"u8.ToArray()))).StatusCode.Should().Be(HttpStatusCode.Created);
        (await kv.GetAsync(new GetRequest { Key = ByteString.CopyFromUtf8("origin") })).Item.Value.ToStringUtf8().Should().Be("o");
        (await _host.Http1.GetAsync("/v0/entity")).StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await _host.Http1.GetAsync("/v0/entity?id=missing")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await _host.Http1.GetAsync("/healthz")).StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_connection_that_closes_or_stays_silent_does_not_hold_up_other_clients()
    {
        using (var closed = new TcpClient())
            await closed.ConnectAsync(IPAddress.Loopback, _host.Address.Port);
        using var silent = new TcpClient();
        await silent.ConnectAsync(IPAddress.Loopback, _host.Address.Port);
        // A client that has sent only part of the HTTP/2 preface so far: the port waits for the rest on that connection only.
        using var partial = new TcpClient();
        await partial.ConnectAsync(IPAddress.Loopback, _host.Address.Port);
        await partial.GetStream().WriteAsync("PRI * HTTP/2"u8.ToArray());

        (await _host.Http1.GetAsync("/healthz")).StatusCode.Should().Be(HttpStatusCode.OK);
        (await _host.Http2.GetAsync("/healthz")).StatusCode.Should().Be(HttpStatusCode.OK);

        await partial.GetStream().WriteAsync(".0\r\n\r\nSM\r\n\r\n"u8.ToArray());
        var answer = new byte[9];
        int read = await partial.GetStream().ReadAsync(answer).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        read.Should().BeGreaterThan(0, "the completed preface is served as HTTP/2 (the server's SETTINGS frame)");
    }

    [Theory]
    [InlineData("", null)]
    [InlineData("PRI * HTTP/2.0\r\n", null)]
    [InlineData("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", HttpProtocols.Http2)]
    [InlineData("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\x12\x04", HttpProtocols.Http2)]
    [InlineData("GET / HTTP/1.1\r\n", HttpProtocols.Http1)]
    [InlineData("PUT /v1/kv/a HTTP/1.1\r\n", HttpProtocols.Http1)]
    [InlineData("PRI * HTTP/1.1\r\n", HttpProtocols.Http1)]
    public void The_first_bytes_decide_the_protocol_as_soon_as_they_can(string head, HttpProtocols? expected)
    {
        PrefacePeek.Classify(new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(head))).Should().Be(expected);
    }
}
