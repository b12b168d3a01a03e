using System.Globalization;
using System.Text.Json;
using LsmRaft.Client.Wire;
using LsmRaft.Protocol.Cluster;
using LsmRaft.Protocol.Hashing;
using LsmRaft.Protocol.Monitoring;

namespace LsmRaft.Host.Api;

/// <summary>
/// Read endpoints for operators and the admin UI: <c>/v1/node</c> (this node), <c>/v1/nodes</c> (every node),
/// <c>/v1/cluster/status</c> (the cluster view joined with every node's status, for the CLI's cluster commands),
/// their traffic, <c>/v1/locate/{key}</c>, and <c>/v1/events</c>, a server-sent-events stream of membership and
/// leadership changes (and, with <c>?traffic=true</c>, every node's traffic sample each second).
/// </summary>
internal static class MonitorEndpoints
{
    /// <summary>A comment line sent on an idle stream so proxies keep it open and a vanished reader is noticed.</summary>
    private static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(15);

    public static void Map(IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1").WithTags("monitoring");
        group.MapGet("/node", Handler(context => WithMonitor(context, m => Task.FromResult(Results.Json(m.GetStatus(), WireJson.Lenient)))))
            .WithName("GetNode").WithSummary("This node: version, uptime, readiness, every replica (role, term, commit, applied, quiesced, LSM shape), block cache, latest traffic.")
            .Produces<NodeStatus>(200).ProducesProblem(501);
        group.MapGet("/node/traffic", (HttpContext context, string? last) => WithMonitor(context, m =>
                Task.FromResult(Results.Json(m.GetTraffic(Last(last)), WireJson.Lenient))))
            .WithName("GetNodeTraffic").WithSummary("This node's traffic samples (one per second, the last two minutes; ?last=N for the newest N).")
            .Produces<TrafficHistory>(200).ProducesProblem(400).ProducesProblem(501);
        group.MapGet("/nodes", Handler(context => WithMonitor(context, async m =>
                Results.Json(await m.GetAllAsync(context.RequestAborted), WireJson.Lenient))))
            .WithName("GetNodes").WithSummary("Every node's /v1/node, gathered by this node; a node that does not answer within 1.5 s has an error instead.")
            .Produces<NodeReport[]>(200).ProducesProblem(501);
        group.MapGet("/cluster/status", Handler(context => WithMonitor(context, async m =>
                Results.Json(await m.GetClusterStatusAsync(context.RequestAborted), WireJson.Lenient))))
            .WithName("GetClusterStatus").WithSummary("The cluster view joined with every node's status: uptime and version per node; term, commit/applied, lag and size per shard and replica.")
            .Produces<ClusterStatus>(200).ProducesProblem(501);
        group.MapGet("/nodes/traffic", Handler(context => WithMonitor(context, async m =>
                Results.Json(await m.GetAllTrafficAsync(context.RequestAborted), WireJson.Lenient))))
            .WithName("GetNodesTraffic").WithSummary("Every reachable node's traffic history.")
            .Produces<TrafficHistory[]>(200).ProducesProblem(501);
        group.MapGet("/locate/{key}", Locate)
            .WithName("LocateKey").WithSummary("The key's ring hash, the shard that owns it, its replicas and leader (no data is read).")
            .Produces<KeyLocation>(200).ProducesProblem(400).ProducesProblem(413);
        group.MapGet("/events", new Func<HttpContext, Task>(StreamAsync))
            .WithName("Events").WithSummary("Server-sent events: a snapshot, then membership and leadership changes as they happen; ?traffic=true adds every node's traffic each second. Resumes after Last-Event-ID.")
            .Produces(200, contentType: "text/event-stream").ProducesProblem(400).ProducesProblem(501);
    }

    /// <summary>A handler whose result is written (a lambda over HttpContext alone would bind as a RequestDelegate, discarding it).</summary>
    private static Delegate Handler(Func<HttpContext, Task<IResult>> handler) => handler;

    private static IResult Locate(string key, string? encoding, IKvService service, ApiOptions options)
    {
        string enc = RequestReader.Encoding(encoding);
        var bytes = RequestReader.Key(key, enc, options);
        ulong hash = KeyHash.Hash(bytes);
        var view = service.GetClusterView();
        var shard = view.Shards.FirstOrDefault(s => s.Contains(hash))
            ?? throw new ShardUnavailableException(0, "this node has not read the shard map yet (it is starting)");
        return Results.Json(new KeyLocation(key, enc, Hex(hash), shard.Id, Hex(shard.RangeStart), Hex(shard.RangeEnd), shard.Epoch,
            shard.Replicas, shard.Learners, shard.Leader), WireJson.Lenient);
    }

    private static async Task StreamAsync(HttpContext context)
    {
        if (context.RequestServices.GetService<INodeMonitor>() is not { } monitor)
        {
            await NotImplementedAsync(context);
            return;
        }
        bool traffic = context.Request.Query["traffic"].ToString() switch
        {
            "" or "false" => false,
            "true" => true,
            var other => throw new BadRequestException($"Query parameter 'traffic' is '{other}': expected 'true' or 'false'."),
        };
        long? after = null;
        string lastId = context.Request.Headers["Last-Event-ID"].ToString();
        if (lastId.Length > 0)
            after = long.TryParse(lastId, NumberStyles.None, CultureInfo.InvariantCulture, out long id)
                ? id
                : throw new BadRequestException($"Header 'Last-Event-ID' is '{lastId}': expected the id of the last event received (a whole number).");

        // The stream ends when the reader goes away or the node stops (a stream must not hold up the graceful stop).
        var stopping = context.RequestServices.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping);
        var token = linked.Token;
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        context.Response.Headers["X-Accel-Buffering"] = "no";
        var body = context.Response.Body;
        await body.FlushAsync(token);
        await using var items = monitor.StreamAsync(after, traffic, token).GetAsyncEnumerator(token);
        Task<bool>? next = null;
        try
        {
            while (true)
            {
                next ??= items.MoveNextAsync().AsTask();
                var winner = await Task.WhenAny(next, Task.Delay(KeepAlive, token));
                if (winner != next)
                {
                    token.ThrowIfCancellationRequested();
                    await context.Response.WriteAsync(": keep-alive\n\n", token);
                    await body.FlushAsync(token);
                    continue;
                }
                if (!await next)
                    break;
                next = null;
                await context.Response.WriteAsync(Format(items.Current), token);
                await body.FlushAsync(token);
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
    }

    /// <summary>One SSE message: events carry their sequence as id (for Last-Event-ID); traffic samples carry none.</summary>
    internal static string Format(MonitorItem item) => item switch
    {
        MonitorItem.Event e => $"id: {e.Value.Sequence.ToString(CultureInfo.InvariantCulture)}\nevent: {e.Value.Kind}\ndata: {JsonSerializer.Serialize(e.Value, WireJson.Lenient)}\n\n",
        MonitorItem.Traffic t => $"event: traffic\ndata: {JsonSerializer.Serialize(t.Value, WireJson.Lenient)}\n\n",
        _ => throw new ArgumentOutOfRangeException(nameof(item), item, "unknown monitor item"),
    };

    private static async Task<IResult> WithMonitor(HttpContext context, Func<INodeMonitor, Task<IResult>> action)
    {
        if (context.RequestServices.GetService<INodeMonitor>() is { } monitor)
            return await action(monitor);
        await NotImplementedAsync(context);
        return Results.Empty;
    }

    private static Task NotImplementedAsync(HttpContext context) =>
        ProblemMapping.WriteAsync(context, new ApiProblem(501, "not-implemented", "Not implemented", "This node does not offer monitoring."));

    private static int Last(string? last)
    {
        if (string.IsNullOrEmpty(last))
            return int.MaxValue;
        return int.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n >= 1
            ? n
            : throw new BadRequestException($"Query parameter 'last' is '{last}': expected a whole number of samples, at least 1.");
    }

    private static string Hex(ulong value) => value.ToString("x16", CultureInfo.InvariantCulture);
}
