using LsmRaft.Client.Wire;
using LsmRaft.Protocol.Cluster;

namespace LsmRaft.Host.Api;

/// <summary>
/// Membership commands over <see cref="INodeAdmin"/>: <c>POST /v1/admin/nodes/{id}/drain</c> (and <c>GET</c> for its
/// progress), <c>POST /v1/admin/nodes/{id}/down[?force=true]</c>, <c>POST /v1/admin/nodes/join</c>. The token rule and
/// the 501 of a node without an <see cref="INodeAdmin"/> are <see cref="AdminRoute"/>'s.
/// </summary>
internal static class NodeAdminEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        var nodes = AdminRoute.Group(app, "/nodes");
        nodes.MapPost("/{nodeId}/drain", DrainAsync).WithName("DrainNode").Answers<DrainProgress>(202, 400, 404, 409, 503);
        nodes.MapGet("/{nodeId}/drain", GetDrainAsync).WithName("GetDrain").Answers<DrainProgress>(200, 400, 404, 503);
        nodes.MapPost("/{nodeId}/down", DownAsync).WithName("DownNode").Answers<ClusterView>(202, 400, 404, 409, 503);
        nodes.MapPost("/join", JoinAsync).WithName("JoinNode")
            .Accepts<JoinNodeRequest>("application/json").Answers<ClusterView>(202, 400, 404, 503);
    }

    private static Task<IResult> DrainAsync(string nodeId, HttpContext context, ApiOptions options) =>
        AdminRoute.HandleAsync<INodeAdmin>(context, options, async admin =>
            AdminRoute.Accepted(await admin.DrainAsync(RequestReader.Id(nodeId, "node id"), context.RequestAborted)));

    private static Task<IResult> GetDrainAsync(string nodeId, HttpContext context, ApiOptions options) =>
        AdminRoute.HandleAsync<INodeAdmin>(context, options, async admin =>
            Results.Json(await admin.GetDrainAsync(RequestReader.Id(nodeId, "node id"), context.RequestAborted), WireJson.Lenient));

    private static Task<IResult> DownAsync(string nodeId, HttpContext context, ApiOptions options) =>
        AdminRoute.HandleAsync<INodeAdmin>(context, options, async admin =>
        {
            ulong id = RequestReader.Id(nodeId, "node id");
            return AdminRoute.Accepted(await admin.DownAsync(id, Force(context.Request), context.RequestAborted));
        });

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

    private static Task<IResult> JoinAsync(HttpContext context, ApiOptions options) =>
        AdminRoute.HandleAsync<INodeAdmin>(context, options, async admin =>
        {
            var body = await RequestReader.JsonAsync<JoinNodeRequest>(context.Request, options, "{\"address\": \"10.0.0.4:8080\"}", context.RequestAborted);
            return AdminRoute.Accepted(await admin.AdmitAsync(body.Address, context.RequestAborted));
        });
}
