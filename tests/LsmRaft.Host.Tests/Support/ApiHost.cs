using System.Collections.Concurrent;
using LsmRaft.Host.Api;
using Microsoft.AspNetCore.TestHost;

namespace LsmRaft.Host.Tests.Support;

/// <summary>An in-process API server (TestServer) over an <see cref="EngineKvService"/>, with its log captured.</summary>
internal sealed class ApiHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private ApiHost(WebApplication app, EngineKvService service, LogSink log)
    {
        _app = app;
        Service = service;
        Log = log;
        Server = app.GetTestServer();
        Client = Server.CreateClient();
    }

    public EngineKvService Service { get; }

    public LogSink Log { get; }

    public TestServer Server { get; }

    public HttpClient Client { get; }

    public static async Task<ApiHost> StartAsync(ApiOptions? options = null, Action<IServiceCollection>? services = null)
    {
        var service = new EngineKvService();
        var log = new LogSink();
        var app = ApiServer.Create(
            options ?? new ApiOptions(),
            s =>
            {
                s.AddSingleton<IKvService>(service);
                services?.Invoke(s);
            },
            builder =>
            {
                builder.WebHost.UseTestServer();
                builder.Logging.ClearProviders();
                builder.Logging.AddProvider(log);
            });
        await app.StartAsync();
        return new ApiHost(app, service, log);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        Service.Dispose();
    }
}

/// <summary>Keeps every log entry so tests can check what the server logged.</summary>
internal sealed class LogSink : ILoggerProvider
{
    public ConcurrentQueue<(LogLevel Level, string Message, Exception? Exception)> Entries { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void Dispose() { }

    private sealed class Logger(LogSink sink) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
                sink.Entries.Enqueue((logLevel, formatter(state, exception), exception));
        }
    }
}
