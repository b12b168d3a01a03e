using Grpc.Core;

namespace LsmRaft.Protocol.Api;

/// <summary>
/// How an API error travels over gRPC (docs/api.md, "gRPC errors"). The server builds each error once as a REST problem
/// (an HTTP status and a problem type slug such as <c>version-conflict</c>); over gRPC it becomes the status code
/// <see cref="CodeOf"/> with a <c>google.rpc.Status</c> whose <c>google.rpc.ErrorInfo</c> (domain <see cref="Domain"/>,
/// reason <see cref="ReasonOf"/>) carries the problem's type, HTTP status and extension members as metadata, and a
/// <c>google.rpc.RetryInfo</c> when the REST answer would carry Retry-After. A client can therefore rebuild exactly
/// the error it would have got over REST.
/// </summary>
public static class ApiErrorDetails
{
    /// <summary>The <c>ErrorInfo.domain</c> of every LsmRaft error.</summary>
    public const string Domain = "lsmraft";

    /// <summary>The prefix of problem type URIs; the slug follows (docs/api.md lists them).</summary>
    public const string TypePrefix = "urn:lsmraft:problem:";

    /// <summary>ErrorInfo metadata: the problem type URI, as REST's <c>type</c>.</summary>
    public const string TypeKey = "type";

    /// <summary>ErrorInfo metadata: the status REST answers for the same error (e.g. "409").</summary>
    public const string HttpStatusKey = "httpStatus";

    /// <summary>ErrorInfo metadata on a version conflict: the key's current version (0 = absent), as REST's <c>currentVersion</c>.</summary>
    public const string CurrentVersionKey = "currentVersion";

    /// <summary>ErrorInfo metadata on an internal error: the id under which the server logged it, as REST's <c>correlationId</c>.</summary>
    public const string CorrelationIdKey = "correlationId";

    /// <summary>The gRPC status code of a problem: the canonical code for what the HTTP status means.</summary>
    public static StatusCode CodeOf(int httpStatus, string slug) => httpStatus switch
    {
        400 or 413 => StatusCode.InvalidArgument,
        401 => StatusCode.Unauthenticated,
        403 => StatusCode.PermissionDenied,
        404 => StatusCode.NotFound,
        // A failed test-and-set: the caller should re-read and retry its read-modify-write (google.rpc.Code ABORTED).
        409 when slug == "version-conflict" => StatusCode.Aborted,
        409 => StatusCode.FailedPrecondition,
        429 => StatusCode.ResourceExhausted,
        405 or 501 => StatusCode.Unimplemented,
        503 => StatusCode.Unavailable,
        504 => StatusCode.DeadlineExceeded,
        >= 500 => StatusCode.Internal,
        _ => StatusCode.Unknown,
    };

    /// <summary>The <c>ErrorInfo.reason</c> of a problem slug: upper snake case (<c>version-conflict</c> → <c>VERSION_CONFLICT</c>).</summary>
    public static string ReasonOf(string slug) => slug.Replace('-', '_').ToUpperInvariant();
}
