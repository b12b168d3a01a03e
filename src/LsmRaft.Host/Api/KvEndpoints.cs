using System.Buffers.Text;
using LsmRaft.Client.Wire;

namespace LsmRaft.Host.Api;

/// <summary>
/// The key-value API under <c>/v1</c> (docs/api.md). Keys in paths are UTF-8 text, or base64url with
/// <c>?encoding=base64url</c> (the form for binary keys and keys containing '/'); the same parameter makes JSON
/// answers encode keys and values as base64url, which otherwise are utf8 when they are valid UTF-8.
/// </summary>
internal static class KvEndpoints
{
    private const string PutShape = "raw bytes (Content-Type: application/octet-stream) or JSON {\"value\": \"...\", \"encoding\": \"utf8|base64url\"}";
    private const string CasShape = "{\"expectedVersion\": 7, \"value\": \"...\" (omit or null to delete), \"encoding\": \"utf8|base64url\"}";
    private const string BatchShape = "{\"operations\": [{\"op\": \"put\", \"key\": \"...\", \"value\": \"...\"}, {\"op\": \"delete\", \"key\": \"...\"}], \"encoding\": \"utf8|base64url\"}";

    public static void Map(IEndpointRouteBuilder app)
    {
        var kv = app.MapGroup("/v1").WithTags("kv");
        kv.MapGet("/kv/{key}", GetAsync)
            .WithName("GetKey").WithSummary("Reads a key: JSON, or the raw value with Accept: application/octet-stream.")
            .Produces<KvItem>(200).Produces(200, contentType: WireNames.OctetStream)
            .ProducesProblem(400).ProducesProblem(404).ProducesProblem(413).ProducesProblem(429).ProducesProblem(503);
        kv.MapPut("/kv/{key}", PutAsync)
            .WithName("PutKey").WithSummary("Writes a key; If-Match / If-None-Match: * make it a compare-and-set.")
            // Any body that is not JSON is the raw value; text/plain and form-urlencoded (curl --data-binary's default) included.
            .Accepts<PutValueRequest>("application/json", WireNames.OctetStream, "text/plain", "application/x-www-form-urlencoded")
            .Produces<WriteResult>(200)
            .ProducesProblem(400).ProducesProblem(409).ProducesProblem(413).ProducesProblem(429).ProducesProblem(503);
        kv.MapDelete("/kv/{key}", DeleteAsync)
            .WithName("DeleteKey").WithSummary("Deletes a key (204; 404 when absent); If-Match makes it conditional.")
            .Produces(204).ProducesProblem(400).ProducesProblem(404).ProducesProblem(409).ProducesProblem(429).ProducesProblem(503);
        kv.MapPost("/kv/{key}/cas", CompareAndSetAsync)
            .WithName("CompareAndSet").WithSummary("Sets or deletes a key only if its version is the expected one.")
            .Accepts<CompareAndSetRequest>("application/json")
            .Produces<WriteResult>(200).ProducesProblem(400).ProducesProblem(409).ProducesProblem(413).ProducesProblem(429).ProducesProblem(503);
        kv.MapGet("/kv", ScanAsync)
            .WithName("Scan").WithSummary("Lists keys in order within [start, end) and/or a prefix, a page at a time.")
            .Produces<ScanResult>(200).ProducesProblem(400).ProducesProblem(413).ProducesProblem(429).ProducesProblem(503);
        kv.MapPost("/batch", BatchAsync)
            .WithName("Batch").WithSummary("Applies puts and deletes atomically (all keys must fall in one shard).")
            .Accepts<BatchRequest>("application/json")
            .Produces<BatchResult>(200).ProducesProblem(400).ProducesProblem(413).ProducesProblem(429).ProducesProblem(503);
    }

    private static async Task<IResult> GetAsync(
        string key, string? encoding, string? consistency, HttpContext context, IKvService service, ApiOptions options)
    {
        string keyEncoding = RequestReader.Encoding(encoding);
        var keyBytes = RequestReader.Key(key, keyEncoding, options);
        var entry = await service.GetAsync(keyBytes, RequestReader.Consistency(consistency), context.RequestAborted);
        if (entry is null)
            throw new ResourceNotFoundException($"Key '{key}' does not exist.");
        context.Response.Headers.ETag = ETag(entry.Version);
        if (WantsRaw(context.Request))
            return Results.Bytes(entry.Value, WireNames.OctetStream);
        return Results.Json(Item(entry, encoding is null ? null : keyEncoding), WireJson.Lenient);
    }

    private static async Task<IResult> PutAsync(string key, string? encoding, HttpContext context, IKvService service, ApiOptions options)
    {
        var keyBytes = RequestReader.Key(key, RequestReader.Encoding(encoding), options);
        var expected = RequestReader.ExpectedVersion(context.Request, allowIfNoneMatch: true);
        byte[] value;
        if (RequestReader.IsJson(context.Request))
        {
            var body = await RequestReader.JsonAsync<PutValueRequest>(context.Request, options, PutShape, context.RequestAborted);
            value = RequestReader.Value(body.Value, body.Encoding, options);
        }
        else
        {
            value = await RequestReader.BodyAsync(context.Request, options, context.RequestAborted);
            KvRules.CheckValueSize(value.Length, options);
        }
        ulong version = expected is { } v
            ? await service.CompareAndSetAsync(keyBytes, v, value, context.RequestAborted)
            : await service.PutAsync(keyBytes, value, context.RequestAborted);
        context.Response.Headers.ETag = ETag(version);
        return Results.Json(new WriteResult(version), WireJson.Lenient);
    }

    private static async Task<IResult> DeleteAsync(string key, string? encoding, HttpContext context, IKvService service, ApiOptions options)
    {
        var keyBytes = RequestReader.Key(key, RequestReader.Encoding(encoding), options);
        if (RequestReader.ExpectedVersion(context.Request, allowIfNoneMatch: false) is { } expected)
        {
            await service.CompareAndSetAsync(keyBytes, expected, null, context.RequestAborted);
            return Results.NoContent();
        }
        if (!await service.DeleteAsync(keyBytes, context.RequestAborted))
            throw new ResourceNotFoundException($"Key '{key}' does not exist.");
        return Results.NoContent();
    }

    private static async Task<IResult> CompareAndSetAsync(string key, string? encoding, HttpContext context, IKvService service, ApiOptions options)
    {
        var keyBytes = RequestReader.Key(key, RequestReader.Encoding(encoding), options);
        var body = await RequestReader.JsonAsync<CompareAndSetRequest>(context.Request, options, CasShape, context.RequestAborted);
        var value = body.Value is null ? null : RequestReader.Value(body.Value, body.Encoding, options);
        ulong version = await service.CompareAndSetAsync(keyBytes, body.ExpectedVersion, value, context.RequestAborted);
        if (version != 0)
            context.Response.Headers.ETag = ETag(version);
        return Results.Json(new WriteResult(version), WireJson.Lenient);
    }

    private static async Task<IResult> ScanAsync(
        string? start, string? end, string? prefix, string? limit, string? continuation, string? encoding, string? consistency,
        HttpContext context, IKvService service, ApiOptions options)
    {
        string keyEncoding = RequestReader.Encoding(encoding);
        var from = RequestReader.OptionalKey(start, keyEncoding, options, "start");
        var to = RequestReader.OptionalKey(end, keyEncoding, options, "end");
        var pre = RequestReader.OptionalKey(prefix, keyEncoding, options, "prefix");
        int pageSize = RequestReader.Limit(limit, options);
        var readConsistency = RequestReader.Consistency(consistency);
        var resumeAt = string.IsNullOrEmpty(continuation) ? null : ContinuationKey(continuation);
        ScanPage page = KvRules.Scan(from, to, pre, resumeAt, pageSize, readConsistency) is { } request
            ? await service.ScanAsync(request, context.RequestAborted)
            : new ScanPage([], null);
        var items = page.Entries.Select(e => Item(e, encoding is null ? null : keyEncoding)).ToList();
        string? next = page.NextStart is null ? null : Base64Url.EncodeToString(page.NextStart);
        return Results.Json(new ScanResult(items, next), WireJson.Lenient);
    }

    private static async Task<IResult> BatchAsync(HttpContext context, IKvService service, ApiOptions options)
    {
        var body = await RequestReader.JsonAsync<BatchRequest>(context.Request, options, BatchShape, context.RequestAborted);
        KvRules.CheckBatchSize(body.Operations.Count, options, BatchShape);
        var operations = new List<BatchOperation>(body.Operations.Count);
        for (int i = 0; i < body.Operations.Count; i++)
        {
            var op = body.Operations[i];
            string opEncoding = op.Encoding ?? body.Encoding ?? WireNames.Utf8;
            if (!WireEncoding.IsKnown(opEncoding))
                throw new BadRequestException($"Operation {i} has encoding '{opEncoding}': expected '{WireNames.Utf8}' or '{WireNames.Base64Url}'.");
            var key = RequestReader.Key(op.Key, opEncoding, options, $"key of operation {i}");
            switch (op.Op)
            {
                case "put" when op.Value is not null:
                    operations.Add(new BatchOperation(key, RequestReader.Value(op.Value, opEncoding, options, $"value of operation {i}")));
                    break;
                case "put":
                    throw new BadRequestException($"Operation {i} is a put without a value.");
                case "delete" when op.Value is null:
                    operations.Add(new BatchOperation(key, null));
                    break;
                case "delete":
                    throw new BadRequestException($"Operation {i} is a delete with a value; deletes take only a key.");
                default:
                    throw new BadRequestException($"Operation {i} has op '{op.Op}': expected 'put' or 'delete'.");
            }
        }
        await service.BatchAsync(operations, context.RequestAborted);
        return Results.Json(new BatchResult(operations.Count), WireJson.Lenient);
    }

    internal static string ETag(ulong version) => $"\"{version}\"";

    private static bool WantsRaw(HttpRequest request) =>
        request.GetTypedHeaders().Accept.Any(a => a.MediaType.Equals(WireNames.OctetStream, StringComparison.OrdinalIgnoreCase) && a.Quality is not 0);

    /// <summary>The JSON item; <paramref name="forcedEncoding"/> is the client's explicit ?encoding=, else utf8 where the bytes allow.</summary>
    private static KvItem Item(KvEntry entry, string? forcedEncoding)
    {
        string encoding = forcedEncoding == WireNames.Base64Url ? WireNames.Base64Url : WireEncoding.Choose(entry.Key, entry.Value);
        return new KvItem(WireEncoding.Encode(entry.Key, encoding), WireEncoding.Encode(entry.Value, encoding), encoding, entry.Version);
    }

    private static byte[] ContinuationKey(string token)
    {
        try
        {
            var key = Base64Url.DecodeFromChars(token);
            if (key.Length > 0)
                return key;
        }
        catch (FormatException)
        {
        }
        throw new BadRequestException($"Query parameter 'continuation' is '{token}', which is not a token this API issued; pass back the 'continuation' of the previous page unchanged.");
    }
}
