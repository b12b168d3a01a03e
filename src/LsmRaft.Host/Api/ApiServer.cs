using System.Diagnostics.Metrics;
using LsmRaft.Host.Api.Grpc;
using LsmRaft.Host.Api.Listening;
using LsmRaft.Host.Metrics;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace LsmRaft.Host.Api;

/// <summary>
/// Assembles the HTTP API. A node adds it to its own <see cref="WebApplication"/> (which may also serve the peer
/// protocol on another Kestrel endpoint):
/// <code>
/// builder.Services.AddLsmRaftApi(config.ToApiOptions());
/// builder.Services.AddSingleton&lt;IKvService&gt;(kv);            // required
/// builder.Services.AddSingleton&lt;IReadiness&gt;(readiness);     // optional
/// builder.Services.AddSingleton&lt;IClusterAdmin&gt;(admin);      // optional (else admin endpoints answer 501)
/// builder.Services.AddSingleton&lt;INodeMonitor&gt;(monitor);    // optional (else monitoring endpoints answer 501)
/// builder.Services.AddLsmRaftMetrics(telemetry);                // optional (else GET /metrics answers 404)
/// var app = builder.Build();
/// app.UseLsmRaftApi();
/// </code>
/// <see cref="Create"/> does all of that for a server that only serves the API (tests use it with a test server).
/// </summary>
public static class ApiServer
{
    /// <summary>
    /// Registers the API's services: options, admission control, problem details, OpenAPI, gRPC, Kestrel's body limit
    /// and the listener that serves REST and gRPC on one port (<see cref="ApiPortListening.ListenApi"/>).
    /// </summary>
    public static IServiceCollection AddLsmRaftApi(this IServiceCollection services, ApiOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.MaxInFlightRequests < 1 || options.MaxKeyBytes < 1 || options.MaxValueBytes < 1 || options.MaxBodyBytes < 1)
            throw new ArgumentOutOfRangeException(nameof(options), options, "API limits must be positive.");
        services.AddSingleton(options);
        services.AddSingleton<AdmissionControl>();
        services.AddSingleton<ApiMetrics>();
        services.AddProblemDetails();
        services.AddOpenApi();
        services.Configure<KestrelServerOptions>(kestrel => kestrel.Limits.MaxRequestBodySize = options.MaxBodyBytes);
        services.AddGrpc(grpc =>
        {
            grpc.Interceptors.Add<GrpcErrorInterceptor>();
            // No catch-all route for unknown gRPC services: its "{service}/{method}" pattern also matches the origin's
            // /v0/entity, which then answered 404 to a PUT without a Content-Type. Unknown services get the API's 404.
            grpc.IgnoreUnknownServices = true;
            // gRPC bypasses Kestrel's body limit; the same limit holds per message.
            grpc.MaxReceiveMessageSize = (int)Math.Min(options.MaxBodyBytes, int.MaxValue);
            grpc.MaxSendMessageSize = null;
        });
        services.AddApiPortListener();
        return services;
    }

    /// <summary>
    /// Serves <paramref name="telemetry"/> on <c>GET /metrics</c> and makes its meter factory the application's, so that
    /// ASP.NET Core's HTTP instruments and the API's own are exported with the node's.
    /// </summary>
    public static IServiceCollection AddLsmRaftMetrics(this IServiceCollection services, NodeTelemetry telemetry)
    {
        ArgumentNullException.ThrowIfNull(telemetry);
        services.AddSingleton(telemetry);
        services.AddSingleton<IMeterFactory>(telemetry.MeterFactory);
        return services;
    }

    /// <summary>Adds the API's middleware (problem mapping outermost, then admission control) and maps every endpoint.</summary>
    public static WebApplication UseLsmRaftApi(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.Use(ProblemMapping.HandleExceptionsAsync);
        app.UseStatusCodePages(async status =>
        {
            var context = status.HttpContext;
            await ProblemMapping.WriteAsync(context, ProblemMapping.ForStatus(context.Response.StatusCode,
                $"{context.Request.Method} {context.Request.Path} matches no endpoint of this API; see /openapi/v1.json."));
        });
        var admission = app.Services.GetRequiredService<AdmissionControl>();
        app.Use((context, next) => admission.InvokeAsync(context, next));
        app.MapOpenApi();
        if (app.Services.GetService<NodeTelemetry>() is { } telemetry)
            app.MapPrometheusScrapingEndpoint(NodeTelemetry.ScrapePath, telemetry.MeterProvider, configureBranchedPipeline: null, optionsName: null)
                .WithTags("health").WithName("Metrics").WithSummary("The node's metrics in Prometheus text format (docs/api.md, \"Metrics\").");
        KvEndpoints.Map(app);
        EntityEndpoints.Map(app);
        ClusterEndpoints.Map(app);
        AdminEndpoints.Map(app);
        NodeAdminEndpoints.Map(app);
        app.MapGrpcService<KvGrpcService>();
        app.MapGrpcService<ClusterGrpcService>();
        MonitorEndpoints.Map(app);
        Ui.UiEndpoints.Map(app);
        return app;
    }

    /// <summary>
    /// A server of the API alone. <paramref name="configureServices"/> registers <see cref="IKvService"/> (and
    /// optionally <see cref="IReadiness"/>, <see cref="IClusterAdmin"/>); <paramref name="configureBuilder"/> sets
    /// listen addresses (or a test server).
    /// </summary>
    public static WebApplication Create(ApiOptions options, Action<IServiceCollection> configureServices, Action<WebApplicationBuilder>? configureBuilder = null)
    {
        ArgumentNullException.ThrowIfNull(configureServices);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = "lsmraft" });
        builder.Services.AddLsmRaftApi(options);
        configureServices(builder.Services);
        configureBuilder?.Invoke(builder);
        var app = builder.Build();
        app.UseLsmRaftApi();
        return app;
    }
}
