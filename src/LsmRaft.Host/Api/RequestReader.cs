using System.Buffers;
using System.Globalization;
using System.Text.Json;
using LsmRaft.Client.Wire;

namespace LsmRaft.Host.Api;

/// <summary>
/// Parses the parts of a request (keys, values, bodies, query parameters, preconditions) into bytes and typed values,
/// enforcing the size limits. Every rejection is a <see cref="BadRequestException"/> (400) or a
/// <see cref="TooLargeException"/> (413) whose message names the parameter, the bad value and what is accepted.
/// </summary>
internal static class RequestReader
{
    public static string Encoding(string? encoding) => encoding switch
    {
        null or "" or WireNames.Utf8 => WireNames.Utf8,
        WireNames.Base64Url => WireNames.Base64Url,
        _ => throw new BadRequestException($"Query parameter 'encoding' is '{encoding}': expected '{WireNames.Utf8}' (default) or '{WireNames.Base64Url}'."),
    };

    public static ReadConsistency Consistency(string? consistency) => consistency switch
    {
        null or "" or "linearizable" => ReadConsistency.Linearizable,
        "lease" => ReadConsistency.Lease,
        "stale" => ReadConsistency.Stale,
        _ => throw new BadRequestException($"Query parameter 'consistency' is '{consistency}': expected 'linearizable' (default), 'lease' or 'stale'."),
    };

    /// <summary>A key from its wire text; non-empty and within MaxKeyBytes.</summary>
    public static byte[] Key(string? text, string encoding, ApiOptions options, string what = "key")
    {
        if (string.IsNullOrEmpty(text))
            throw new BadRequestException($"The {what} is empty; keys must have at least one byte.");
        return KvRules.Key(Decode(text, encoding, what), options, what);
    }

    /// <summary>An optional key bound (scan start/end/prefix); empty means absent.</summary>
    public static byte[]? OptionalKey(string? text, string encoding, ApiOptions options, string parameter) =>
        string.IsNullOrEmpty(text) ? null : Key(text, encoding, options, $"query parameter '{parameter}'");

    public static byte[] Value(string text, string? encoding, ApiOptions options, string what = "value")
    {
        if (!WireEncoding.IsKnown(encoding))
            throw new BadRequestException($"The {what}'s encoding is '{encoding}': expected '{WireNames.Utf8}' (default) or '{WireNames.Base64Url}'.");
        var value = Decode(text, encoding, what);
        KvRules.CheckValueSize(value.Length, options);
        return value;
    }

    private static byte[] Decode(string text, string? encoding, string what)
    {
        try
        {
            return WireEncoding.Decode(text, encoding);
        }
        catch (FormatException e)
        {
            throw new BadRequestException($"The {what} is malformed: {e.Message}");
        }
    }

    /// <summary>
    /// The whole body, at most MaxBodyBytes. Kestrel enforces the same limit on the connection; this check also covers
    /// hosts without that limit (the test server) and fails fast on a declared Content-Length.
    /// </summary>
    public static async Task<byte[]> BodyAsync(HttpRequest request, ApiOptions options, CancellationToken cancellationToken)
    {
        if (request.ContentLength > options.MaxBodyBytes)
            throw new TooLargeException($"The request body is {request.ContentLength} bytes; the limit is {options.MaxBodyBytes} bytes (setting MaxBodyBytes).");
        var buffer = new ArrayBufferWriter<byte>(request.ContentLength is > 0 and var n ? (int)n : 4096);
        while (true)
        {
            var memory = buffer.GetMemory(4096);
            int read = await request.Body.ReadAsync(memory, cancellationToken);
            if (read == 0)
                break;
            buffer.Advance(read);
            if (buffer.WrittenCount > options.MaxBodyBytes)
                throw new TooLargeException($"The request body exceeds the limit of {options.MaxBodyBytes} bytes (setting MaxBodyBytes).");
        }
        return buffer.WrittenSpan.ToArray();
    }

    public static bool IsJson(HttpRequest request)
    {
        var mediaType = request.GetTypedHeaders().ContentType?.MediaType;
        return mediaType is { } m && (m.Equals("application/json", StringComparison.OrdinalIgnoreCase) || m.EndsWith("+json", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>A JSON body of type <typeparamref name="T"/>; unknown or missing members are 400s naming the expected shape.</summary>
    public static async Task<T> JsonAsync<T>(HttpRequest request, ApiOptions options, string expectedShape, CancellationToken cancellationToken)
        where T : class
    {
        var body = await BodyAsync(request, options, cancellationToken);
        try
        {
            return JsonSerializer.Deserialize<T>(body, WireJson.Strict)
                ?? throw new BadRequestException($"The body is JSON null; expected {expectedShape}.");
        }
        catch (JsonException e)
        {
            throw new BadRequestException($"The body is not valid: {e.Message} Expected {expectedShape}.");
        }
    }

    /// <summary>
    /// The version an <c>If-Match</c> or <c>If-None-Match</c> header requires, or null when neither is present.
    /// <c>If-Match: "7"</c> requires version 7; <c>If-None-Match: *</c> requires that the key does not exist (version 0).
    /// </summary>
    public static ulong? ExpectedVersion(HttpRequest request, bool allowIfNoneMatch)
    {
        string? ifMatch = request.Headers.IfMatch;
        string? ifNoneMatch = request.Headers.IfNoneMatch;
        if (ifMatch is not null && ifNoneMatch is not null)
            throw new BadRequestException("Send either If-Match or If-None-Match, not both.");
        if (ifNoneMatch is not null)
        {
            if (!allowIfNoneMatch || ifNoneMatch.Trim() != "*")
                throw new BadRequestException($"If-None-Match is '{ifNoneMatch}': only 'If-None-Match: *' (create only if absent) is supported, and only on PUT.");
            return 0;
        }
        if (ifMatch is null)
            return null;
        var tag = ifMatch.Trim();
        if (tag.Length >= 3 && tag[0] == '"' && tag[^1] == '"'
            && ulong.TryParse(tag.AsSpan(1, tag.Length - 2), NumberStyles.None, CultureInfo.InvariantCulture, out var version))
            return version;
        throw new BadRequestException($"If-Match is '{ifMatch}': expected one strong ETag of this API, a quoted version such as \"42\".");
    }

    public static int Limit(string? limit, ApiOptions options)
    {
        if (string.IsNullOrEmpty(limit))
            return options.DefaultScanLimit;
        const string what = "Query parameter 'limit'";
        if (int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out var value))
            return KvRules.PageSize(value, options, what);
        throw new BadRequestException($"{what} is '{limit}': expected an integer from 1 to {options.MaxScanLimit}.");
    }

    public static ulong Id(string text, string what)
    {
        if (ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
            return id;
        throw new BadRequestException($"The {what} is '{text}': expected an unsigned integer.");
    }
}
