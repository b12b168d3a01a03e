using LsmRaft.Actors.Background;
using LsmRaft.Client.Wire;
using LsmRaft.Protocol.Cluster;

namespace LsmRaft.Host.Api;

/// <summary>
/// Operator commands over <see cref="IClusterAdmin"/>: split a shard, move a replica, transfer leadership. Each answers
/// 202 with the cluster view once the change is committed (data may still be moving). The token rule and the 501 of a
/// node without an <see cref="IClusterAdmin"/> are <see cref="AdminRoute"/>'s.
/// </summary>
internal static class AdminEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        var admin = AdminRoute.Group(app);
        admin.MapGet("/background", BackgroundAsync).WithName("BackgroundPipelines").Answers<BackgroundState>(200);
        admin.MapPost("/shards/{shardId}/split", SplitAsync).WithName("SplitShard").Answers<ClusterView>(202, 400, 404, 409, 503);
        admin.MapPost("/shards/{shardId}/move", MoveAsync).WithName("MoveReplica")
            .Accepts<MoveReplicaRequest>("application/json").Answers<ClusterView>(202, 400, 404, 409, 503);
        admin.MapPost("/shards/{shardId}/transfer-leader", TransferLeaderAsync).WithName("TransferLeader")
            .Accepts<TransferLeaderRequest>("application/json").Answers<ClusterView>(202, 400, 404, 409, 503);
    }

    /// <summary>The flush and compaction pipelines of this node: queued, running, completed, failed jobs and bytes written per second.</summary>
    private static Task<IResult> BackgroundAsync(HttpContext context, ApiOptions options) =>
        AdminRoute.HandleAsync<IBackgroundStatus>(context, options, status => Task.FromResult(Results.Json(status.BackgroundState, WireJson.Lenient)),
            "This node does not report background pipelines.");

    private static Task<IResult> SplitAsync(string shardId, HttpContext context, ApiOptions options) =>
        AdminRoute.HandleAsync<IClusterAdmin>(context, options, async admin =>
            AdminRoute.Accepted(await admin.SplitShardAsync(RequestReader.Id(shardId, "shard id"), context.RequestAborted)));

    private static Task<IResult> MoveAsync(string shardId, HttpContext context, ApiOptions options) =>
        AdminRoute.HandleAsync<IClusterAdmin>(context, options, async admin =>
        {
            ulong shard = RequestReader.Id(shardId, "shard id");
            var body = await RequestReader.JsonAsync<MoveReplicaRequest>(context.Request, options, "{\"from\": 1, \"to\": 4}", context.RequestAborted);
            if (body.From == body.To)
                throw new BadRequestException($"'from' and 'to' are both node {body.From}; a move needs two different nodes.");
            return AdminRoute.Accepted(await admin.MoveReplicaAsync(shard, body.From, body.To, context.RequestAborted));
        });

    private static Task<IResult> TransferLeaderAsync(string shardId, HttpContext context, ApiOptions options) =>
        AdminRoute.HandleAsync<IClusterAdmin>(context, options, async admin =>
        {
            ulong shard = RequestReader.Id(shardId, "shard id");
            var body = await RequestReader.JsonAsync<TransferLeaderRequest>(context.Request, options, "{\"to\": 2}", context.RequestAborted);
            return AdminRoute.Accepted(await admin.TransferLeaderAsync(shard, body.To, context.RequestAborted));
        });
}
