using LsmRaft.Client.Wire;
using LsmRaft.Protocol.Cluster;

namespace LsmRaft.Host.Api;

/// <summary><c>GET /v1/cluster</c>, <c>/healthz</c> (the process is alive) and <c>/readyz</c> (it can serve requests).</summary>
internal static class ClusterEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/cluster", (IKvService service) => Results.Json(service.GetClusterView(), WireJson.Lenient))
            .WithTags("cluster").WithName("GetCluster").WithSummary("Nodes, shards, leaders and epochs as this node sees them.")
            .Produces<ClusterView>(200);
        app.MapGet("/healthz", () => Results.Text("ok\n", "text/plain"))
            .WithTags("health").WithName("Health").WithSummary("200 while the process runs.");
        app.MapGet("/readyz", Ready)
            .WithTags("health").WithName("Ready").WithSummary("200 when the node serves requests, else 503 with the reason; ?wait=N waits up to N seconds (at most 60) for readiness.")
            .Produces<ReadinessResult>(200).ProducesProblem(503);
    }

    private static async Task<IResult> Ready(HttpContext context, IKvService service, ApiOptions options)
    {
        var readiness = context.RequestServices.GetService<IReadiness>() ?? service as IReadiness;
        if (context.Request.Query.TryGetValue("wait", out var wait))
        {
            if (!int.TryParse(wait, out int seconds) || seconds is < 0 or > 60)
            {
                await ProblemMapping.WriteAsync(context, new ApiProblem(400, "bad-request", "Bad request",
                    $"Query parameter 'wait' is '{wait}': expected whole seconds from 0 to 60, e.g. /readyz?wait=10."));
                return Results.Empty;
            }
            if (readiness is not null)
                await readiness.WaitUntilReadyAsync(TimeSpan.FromSeconds(seconds), context.RequestAborted);
        }
        if (readiness is null || readiness.IsReady)
            return Results.Json(new ReadinessResult(true, null), WireJson.Lenient);
        await ProblemMapping.WriteAsync(context, new ApiProblem(503, "not-ready", "Not ready",
            readiness.Reason ?? "The node is not ready to serve requests.", options.RetryAfterSeconds));
        return Results.Empty;
    }
}
