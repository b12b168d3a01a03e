using System.Security.Cryptography;
using System.Text;
using LsmRaft.Actors.Background;
using LsmRaft.Client.Wire;
using LsmRaft.Protocol.Cluster;

namespace LsmRaft.Host.Api;

/// <summary>
/// Operator commands over <see cref="IClusterAdmin"/>: split a shard, move a replica, transfer leadership. Each answers
/// 202 with the cluster view once the change is committed (data may still be moving). When
/// <see cref="ApiOptions.AdminToken"/> is set they require <c>Authorization: Bearer &lt;token&gt;</c>; a node without
/// an <see cref="IClusterAdmin"/> answers 501.
/// </summary>
internal static class AdminEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        var admin = app.MapGroup("/v1/admin").WithTags("admin");
        admin.MapGet("/background", BackgroundAsync).WithName("BackgroundPipelines")
            .Produces<BackgroundState>(200).ProducesProblem(401).ProducesProblem(501);
        admin.MapPost("/shards/{shardId}/split", SplitAsync).WithName("SplitShard")
            .Produces<ClusterView>(202).ProducesProblem(400).ProducesProblem(401).ProducesProblem(404).ProducesProblem(409).ProducesProblem(501).ProducesProblem(503);
        admin.MapPost("/shards/{shardId}/move", MoveAsync).WithName("MoveReplica")
            .Accepts<MoveReplicaRequest>("application/json")
            .Produces<ClusterView>(202).ProducesProblem(400).ProducesProblem(401).ProducesProblem(404).ProducesProblem(409).ProducesProblem(501).ProducesProblem(503);
        admin.MapPost("/shards/{shardId}/transfer-leader", TransferLeaderAsync).WithName("TransferLeader")
            .Accepts<TransferLeaderRequest>("application/json")
            .Produces<ClusterView>(202).ProducesProblem(400).ProducesProblem(401).ProducesProblem(404).ProducesProblem(409).ProducesProblem(501).ProducesProblem(503);
    }

    /// <summary>The flush and compaction pipelines of this node: queued, running, completed, failed jobs and bytes written per second.</summary>
    private static async Task<IResult> BackgroundAsync(HttpContext context, ApiOptions options)
    {
        if (!await AuthorizedAsync(context, options))
            return Results.Empty;
        if (context.RequestServices.GetService<IBackgroundStatus>() is not { } status)
        {
            await ProblemMapping.WriteAsync(context, new ApiProblem(501, "not-implemented", "Not implemented", "This node does not report background pipelines."));
            return Results.Empty;
        }
        return Results.Json(status.BackgroundState, WireJson.Lenient);
    }

    private static async Task<IResult> SplitAsync(string shardId, HttpContext context, ApiOptions options)
    {
        if (await AdminOrProblemAsync<IClusterAdmin>(context, options) is not { } admin)
            return Results.Empty;
        var view = await admin.SplitShardAsync(RequestReader.Id(shardId, "shard id"), context.RequestAborted);
        return Accepted(view);
    }

    private static async Task<IResult> MoveAsync(string shardId, HttpContext context, ApiOptions options)
    {
        if (await AdminOrProblemAsync<IClusterAdmin>(context, options) is not { } admin)
            return Results.Empty;
        ulong shard = RequestReader.Id(shardId, "shard id");
        var body = await RequestReader.JsonAsync<MoveReplicaRequest>(context.Request, options, "{\"from\": 1, \"to\": 4}", context.RequestAborted);
        if (body.From == body.To)
            throw new BadRequestException($"'from' and 'to' are both node {body.From}; a move needs two different nodes.");
        return Accepted(await admin.MoveReplicaAsync(shard, body.From, body.To, context.RequestAborted));
    }

    private static async Task<IResult> TransferLeaderAsync(string shardId, HttpContext context, ApiOptions options)
    {
        if (await AdminOrProblemAsync<IClusterAdmin>(context, options) is not { } admin)
            return Results.Empty;
        ulong shard = RequestReader.Id(shardId, "shard id");
        var body = await RequestReader.JsonAsync<TransferLeaderRequest>(context.Request, options, "{\"to\": 2}", context.RequestAborted);
        return Accepted(await admin.TransferLeaderAsync(shard, body.To, context.RequestAborted));
    }

    private static IResult Accepted(ClusterView view) => Results.Json(view, WireJson.Lenient, statusCode: StatusCodes.Status202Accepted);

    /// <summary>True when the caller may use admin endpoints; otherwise writes the 401 problem.</summary>
    private static async Task<bool> AuthorizedAsync(HttpContext context, ApiOptions options)
    {
        if (options.AdminToken is { } token && !HasBearer(context.Request, token))
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
            await ProblemMapping.WriteAsync(context, new ApiProblem(401, "unauthorized", "Unauthorized",
                "Admin operations need 'Authorization: Bearer <token>' with the node's admin token (setting AdminToken; CLI --token)."));
            return false;
        }
        return true;
    }

    /// <summary>The admin service <typeparamref name="T"/> when the caller may use it; otherwise writes the 401 or 501 problem and returns null.</summary>
    internal static async Task<T?> AdminOrProblemAsync<T>(HttpContext context, ApiOptions options)
        where T : class
    {
        if (!await AuthorizedAsync(context, options))
            return null;
        var admin = context.RequestServices.GetService<T>();
        if (admin is null)
            await ProblemMapping.WriteAsync(context, new ApiProblem(501, "not-implemented", "Not implemented",
                "This node does not offer admin operations."));
        return admin;
    }

    private static bool HasBearer(HttpRequest request, string token)
    {
        string? header = request.Headers.Authorization;
        const string scheme = "Bearer ";
        if (header is null || !header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
            return false;
        // Constant-time so the comparison does not leak how much of a guess was right.
        return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header[scheme.Length..].Trim()), Encoding.UTF8.GetBytes(token));
    }
}
