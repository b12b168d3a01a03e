using LsmRaft.Client.Wire;
using LsmRaft.Protocol.Cluster;

namespace LsmRaft.Host.Api;

/// <summary>
/// Membership commands over <see cref="INodeAdmin"/>: <c>POST /v1/admin/nodes/{id}/drain</c> (and <c>GET</c> for its
/// progress), <c>POST /v1/admin/nodes/{id}/down[?force=true]</c>, <c>POST /v1/admin/nodes/join</c>. The admin token
/// rule is the one of <see cref="AdminEndpoints"/>; a node without an <see cref="INodeAdmin"/> answers 501.
/// </summary>
internal static class NodeAdminEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        var nodes = app.MapGroup("/v1/admin/nodes").WithTags("admin");
        nodes.MapPost("/{nodeId}/drain", DrainAsync).WithName("DrainNode")
            .Produces<DrainProgress>(202).ProducesProblem(400).ProducesProblem(401).ProducesProblem(404).ProducesProblem(409).ProducesProblem(501).ProducesProblem(503);
        nodes.MapGet("/{nodeId}/drain", GetDrainAsync).WithName("GetDrain")
            .Produces<DrainProgress>(200).ProducesProblem(400).ProducesProblem(401).ProducesProblem(404).ProducesProblem(501).ProducesProblem(503);
        nodes.MapPost("/{nodeId}/down", DownAsync).WithName("DownNode")
            .Produces<ClusterView>(202).ProducesProblem(400).ProducesProblem(401).ProducesProblem(404).ProducesProblem(409).ProducesProblem(501).ProducesProblem(503);
        nodes.MapPost("/join", JoinAsync).WithName("JoinNode")
            .Accepts<JoinNodeRequest>("application/json")
            .Produces<ClusterView>(202).ProducesProblem(400).ProducesProblem(401).ProducesProblem(404).ProducesProblem(501).ProducesProblem(503);
    }

    private static async Task<IResult> DrainAsync(string nodeId, HttpContext context, ApiOptions options)
    {
        if (await AdminEndpoints.AdminOrProblemAsync<INodeAdmin>(context, options) is not { } admin)
            return Results.Empty;
        var progress = await admin.DrainAsync(RequestReader.Id(nodeId, "node id"), context.RequestAborted);
        return Results.Json(progress, WireJson.Lenient, statusCode: StatusCodes.Status202Accepted);
    }

    private static async Task<IResult> GetDrainAsync(string nodeId, HttpContext context, ApiOptions options)
    {
        if (await AdminEndpoints.AdminOrProblemAsync<INodeAdmin>(context, options) is not { } admin)
            return Results.Empty;
        return Results.Json(await admin.GetDrainAsync(RequestReader.Id(nodeId, "node id"), context.RequestAborted), WireJson.Lenient);
    }

    private static async Task<IResult> DownAsync(string nodeId, HttpContext context, ApiOptions options)
    {
        if (await AdminEndpoints.AdminOrProblemAsync<INodeAdmin>(context, options) is not { } admin)
            return Results.Empty;
        ulong id = RequestReader.Id(nodeId, "node id");
        return Results.Json(await admin.DownAsync(id, Force(context.Request), context.RequestAborted), WireJson.Lenient, statusCode: StatusCodes.Status202Accepted);
    }

    private static bool Force(HttpRequest request)
    {
        if (!request.Query.TryGetValue("force", out var value))
            return false;
        return value.ToString() switch
        {
            "" or "true" or "1" => true,
            "false" or "0" => false,
            var other => throw new BadRequestException($"Query parameter 'force' is '{other}': expected true or false."),
        };
    }

    private static async Task<IResult> JoinAsync(HttpContext context, ApiOptions options)
    {
        if (await AdminEndpoints.AdminOrProblemAsync<INodeAdmin>(context, options) is not { } admin)
            return Results.Empty;
        var body = await RequestReader.JsonAsync<JoinNodeRequest>(context.Request, options, "{\"address\": \"10.0.0.4:8080\"}", context.RequestAborted);
        return Results.Json(await admin.AdmitAsync(body.Address, context.RequestAborted), WireJson.Lenient, statusCode: StatusCodes.Status202Accepted);
    }
}
