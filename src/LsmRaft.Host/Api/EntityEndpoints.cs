using System.Text;
using LsmRaft.Client.Wire;

namespace LsmRaft.Host.Api;

/// <summary>
/// The origin's API, kept for its clients: <c>GET/PUT/DELETE /v0/entity?id=&lt;key&gt;</c> with its statuses
/// (GET 200 with the value bytes or 404, PUT 201, DELETE 202, 400 when <c>id</c> is absent or empty). The key is the
/// UTF-8 text of <c>id</c>; the body is the value's bytes. Reads are linearizable.
/// </summary>
internal static class EntityEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        var v0 = app.MapGroup("/v0").WithTags("v0");
        v0.MapGet("/entity", GetAsync).WithName("GetEntity")
            .Produces(200, contentType: WireNames.OctetStream).ProducesProblem(400).ProducesProblem(404);
        v0.MapPut("/entity", PutAsync).WithName("PutEntity")
            .Accepts<byte[]>(WireNames.OctetStream, "text/plain", "application/x-www-form-urlencoded").Produces(201).ProducesProblem(400).ProducesProblem(413);
        v0.MapDelete("/entity", DeleteAsync).WithName("DeleteEntity")
            .Produces(202).ProducesProblem(400);
    }

    private static async Task<IResult> GetAsync(string? id, HttpContext context, IKvService service, ApiOptions options)
    {
        var entry = await service.GetAsync(Key(id, options), ReadConsistency.Linearizable, context.RequestAborted);
        if (entry is null)
            throw new ResourceNotFoundException($"Entity '{id}' does not exist.");
        return Results.Bytes(entry.Value, WireNames.OctetStream);
    }

    private static async Task<IResult> PutAsync(string? id, HttpContext context, IKvService service, ApiOptions options)
    {
        var key = Key(id, options);
        var value = await RequestReader.BodyAsync(context.Request, options, context.RequestAborted);
        KvRules.CheckValueSize(value.Length, options);
        await service.PutAsync(key, value, context.RequestAborted);
        return Results.StatusCode(StatusCodes.Status201Created);
    }

    private static async Task<IResult> DeleteAsync(string? id, HttpContext context, IKvService service, ApiOptions options)
    {
        // The origin answered 202 whether or not the entity existed.
        await service.DeleteAsync(Key(id, options), context.RequestAborted);
        return Results.StatusCode(StatusCodes.Status202Accepted);
    }

    private static byte[] Key(string? id, ApiOptions options)
    {
        if (string.IsNullOrEmpty(id))
            throw new BadRequestException("Query parameter 'id' is required and must not be empty, e.g. /v0/entity?id=user42.");
        var key = Encoding.UTF8.GetBytes(id);
        if (key.Length > options.MaxKeyBytes)
            throw new TooLargeException($"The id is {key.Length} bytes; the limit is {options.MaxKeyBytes} bytes (setting MaxKeyBytes).");
        return key;
    }
}
