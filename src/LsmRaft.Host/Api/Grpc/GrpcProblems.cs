using System.Globalization;
using System.Text;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using HttpRequest = Microsoft.AspNetCore.Http.HttpRequest;
using Grpc.Core;
using LsmRaft.Protocol.Api;

namespace LsmRaft.Host.Api.Grpc;

/// <summary>
/// The gRPC form of an <see cref="ApiProblem"/> (the REST problem every error is first mapped to, by
/// <see cref="ProblemMapping"/>): a status code and a <c>google.rpc.Status</c> with an <c>ErrorInfo</c> and, when REST
/// would send Retry-After, a <c>RetryInfo</c> (see <see cref="ApiErrorDetails"/>).
/// </summary>
internal static class GrpcProblems
{
    public const string ContentType = "application/grpc";

    public static bool IsGrpc(HttpRequest request) =>
        request.ContentType is { } type && type.StartsWith(ContentType, StringComparison.OrdinalIgnoreCase);

    public static Google.Rpc.Status ToStatus(ApiProblem problem)
    {
        var info = new ErrorInfo { Domain = ApiErrorDetails.Domain, Reason = ApiErrorDetails.ReasonOf(problem.Slug) };
        info.Metadata[ApiErrorDetails.TypeKey] = problem.Type;
        info.Metadata[ApiErrorDetails.HttpStatusKey] = problem.Status.ToString(CultureInfo.InvariantCulture);
        foreach (var (name, value) in problem.Extensions)
            info.Metadata[name] = Convert.ToString(value, CultureInfo.InvariantCulture) ?? "";
        var status = new Google.Rpc.Status
        {
            Code = (int)ApiErrorDetails.CodeOf(problem.Status, problem.Slug),
            Message = problem.Detail,
            Details = { Any.Pack(info) },
        };
        if (problem.RetryAfterSeconds is { } seconds)
            status.Details.Add(Any.Pack(new RetryInfo { RetryDelay = Duration.FromTimeSpan(TimeSpan.FromSeconds(seconds)) }));
        return status;
    }

    public static RpcException ToRpcException(ApiProblem problem) => ToStatus(problem).ToRpcException();

    /// <summary>
    /// Answers a gRPC request with the problem from middleware, before any service runs (admission control): a
    /// trailers-only response, the status in its headers as gRPC (PROTOCOL-HTTP2.md) prescribes.
    /// </summary>
    public static Task WriteAsync(HttpContext context, ApiProblem problem)
    {
        var status = ToStatus(problem);
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = ContentType;
        response.Headers["grpc-status"] = status.Code.ToString(CultureInfo.InvariantCulture);
        response.Headers["grpc-message"] = PercentEncode(status.Message);
        response.Headers["grpc-status-details-bin"] = Convert.ToBase64String(status.ToByteArray());
        return Task.CompletedTask;
    }

    /// <summary>grpc-message's encoding: printable ASCII except '%' as is, every other UTF-8 byte as %XX.</summary>
    private static string PercentEncode(string message)
    {
        var text = new StringBuilder(message.Length);
        foreach (byte b in Encoding.UTF8.GetBytes(message))
        {
            if (b is >= 0x20 and <= 0x7E && b != (byte)'%')
                text.Append((char)b);
            else
                text.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
        }
        return text.ToString();
    }
}
