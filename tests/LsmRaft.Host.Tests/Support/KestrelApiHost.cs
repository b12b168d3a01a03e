using Grpc.Net.Client;
using LsmRaft.Host.Api;
using LsmRaft.Host.Api.Listening;
using LsmRaft.Tests.Shared;

namespace LsmRaft.Host.Tests.Support;

/// <summary>
/// The API served by Kestrel on a free loopback port, REST and gRPC on that one port (<see cref="ApiPortListening.ListenApi"/>),
/// over an <see cref="EngineKvService"/>. <see cref="Http1"/> speaks HTTP/1.1, <see cref="Http2"/> HTTP/2 with prior
/// knowledge, <see cref="Channel"/> gRPC.
/// </summary>
internal sealed class KestrelApiHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private KestrelApiHost(WebApplication app, EngineKvService service, LogSink log, Uri address)
    {
        _app = app;
        Service = service;
        Log = log;
        Address = address;
        Http1 = new HttpClient { BaseAddress = address };
        Http2 = new HttpClient { BaseAddress = address, DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
        Channel = GrpcChannel.ForAddress(address);
    }

    public EngineKvService Service { get; }

    public LogSink Log { get; }

    public Uri Address { get; }

    public HttpClient Http1 { get; }

    public HttpClient Http2 { get; }

    public GrpcChannel Channel { get; }

    public static async Task<KestrelApiHost> StartAsync(ApiOptions? options = null)
    {
        var service = new EngineKvService();
        var log = new LogSink();
        int port = LoopbackPorts.Free(1)[0];
        var app = ApiServer.Create(
            options ?? new ApiOptions(),
            s => s.AddSingleton<IKvService>(service),
            builder =>
            {
                builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenApi(new IPEndPoint(IPAddress.Loopback, port)));
                builder.Logging.ClearProviders();
                builder.Logging.AddProvider(log);
            });
        await app.StartAsync();
        return new KestrelApiHost(app, service, log, new Uri($"http://127.0.0.1:{port}"));
    }

    public async ValueTask DisposeAsync()
    {
        Channel.Dispose();
        Http1.Dispose();
        Http2.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        Service.Dispose();
    }
}
