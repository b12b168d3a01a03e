using System.Text.Json;
using LsmRaft.Client.Wire;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.WebUtilities;

namespace LsmRaft.Host.Api;

/// <summary>One error answer: an RFC 9457 problem plus the Retry-After it carries, if any.</summary>
internal sealed record ApiProblem(int Status, string Slug, string Title, string Detail, int? RetryAfterSeconds = null)
{
    /// <summary>Extension members (e.g. currentVersion on a 409, correlationId on a 500).</summary>
    public IReadOnlyDictionary<string, object?> Extensions { get; init; } = new Dictionary<string, object?>();

    /// <summary>The problem type URI; the slugs are listed in docs/api.md.</summary>
    public string Type => ProblemMapping.TypePrefix + Slug;
}

/// <summary>
/// Turns every failure into an RFC 9457 problem (<c>application/problem+json</c>) with the status that names it.
/// Bad input never becomes a 500: it arrives as a <see cref="KvException"/>, a Kestrel <see cref="BadHttpRequestException"/>
/// or a <see cref="JsonException"/>; anything else is a 500 logged under a correlation id that the answer carries.
/// </summary>
internal static class ProblemMapping
{
    public const string TypePrefix = LsmRaft.Protocol.Api.ApiErrorDetails.TypePrefix;

    public static ApiProblem? Map(Exception exception, ApiOptions options) => exception switch
    {
        VersionConflictException e => new ApiProblem(409, "version-conflict", "Version conflict", e.Message)
        {
            Extensions = new Dictionary<string, object?> { [WireNames.CurrentVersionExtension] = e.CurrentVersion },
        },
        CrossShardBatchException e => new ApiProblem(400, "cross-shard-batch", "Batch spans shards", e.Message),
        ShardUnavailableException e => new ApiProblem(503, "shard-unavailable", "Shard unavailable", e.Message, options.RetryAfterSeconds),
        StaleShardException e => new ApiProblem(503, "shard-changed", "Shard map changed", e.Message, 1),
        OverloadedException e => new ApiProblem(429, "overloaded", "Too many requests", e.Message, options.RetryAfterSeconds),
        TooLargeException e => new ApiProblem(413, "too-large", "Too large", e.Message),
        BadRequestException e => new ApiProblem(400, "bad-request", "Bad request", e.Message),
        ResourceNotFoundException e => new ApiProblem(404, "not-found", "Not found", e.Message),
        OperationConflictException e => new ApiProblem(409, "operation-conflict", "Operation conflicts with the cluster state", e.Message),
        NotSupportedOperationException e => new ApiProblem(501, "not-implemented", "Not implemented", e.Message),
        BadHttpRequestException e when e.StatusCode == StatusCodes.Status413PayloadTooLarge =>
            new ApiProblem(413, "too-large", "Too large", $"The request body exceeds the limit of {options.MaxBodyBytes} bytes (setting MaxBodyBytes)."),
        BadHttpRequestException e => new ApiProblem(e.StatusCode, "bad-request", ReasonPhrases.GetReasonPhrase(e.StatusCode), e.Message),
        JsonException e => new ApiProblem(400, "bad-request", "Bad request", $"The body is not valid JSON: {e.Message}"),
        TimeoutException e => new ApiProblem(503, "timeout", "Timed out", $"The operation timed out: {e.Message}", options.RetryAfterSeconds),
        _ => null,
    };

    /// <summary>
    /// The problem of any exception: <see cref="Map"/>'s, or a 500 logged (with the exception) under
    /// <paramref name="correlationId"/>, which the answer carries. Both the REST middleware and the gRPC interceptor use it.
    /// </summary>
    public static ApiProblem Resolve(Exception exception, ApiOptions options, ILogger logger, string method, string path, string correlationId)
    {
        if (Map(exception, options) is { } problem)
        {
            logger.LogDebug("{Method} {Path} answered {Status}: {Detail}", method, path, problem.Status, problem.Detail);
            return problem;
        }
        logger.LogError(exception, "Unhandled error serving {Method} {Path} (correlation id {CorrelationId})", method, path, correlationId);
        return new ApiProblem(500, "internal", "Internal server error",
            $"The server failed unexpectedly; its log has the details under correlation id {correlationId}.")
        {
            Extensions = new Dictionary<string, object?> { [WireNames.CorrelationIdExtension] = correlationId },
        };
    }

    /// <summary>A problem for a status written without a body (unknown route, wrong method).</summary>
    public static ApiProblem ForStatus(int status, string detail) =>
        new(status, status switch { 404 => "not-found", 405 => "method-not-allowed", _ => "http-" + status }, ReasonPhrases.GetReasonPhrase(status), detail);

    /// <summary>Answers with the problem: as problem details, or, to a gRPC call, as its gRPC status (<see cref="Grpc.GrpcProblems"/>).</summary>
    public static Task WriteAsync(HttpContext context, ApiProblem problem)
    {
        context.RequestServices.GetService<ApiMetrics>()?.Answered(problem);
        if (Grpc.GrpcProblems.IsGrpc(context.Request))
            return Grpc.GrpcProblems.WriteAsync(context, problem);
        var response = context.Response;
        response.StatusCode = problem.Status;
        if (problem.RetryAfterSeconds is { } seconds)
            response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var details = new ProblemDetails
        {
            Type = problem.Type,
            Title = problem.Title,
            Status = problem.Status,
            Detail = problem.Detail,
            Instance = context.Request.Path,
        };
        foreach (var (name, value) in problem.Extensions)
            details.Extensions[name] = value;
        return Results.Problem(details).ExecuteAsync(context);
    }

    /// <summary>The outermost middleware: maps exceptions thrown by anything after it.</summary>
    public static async Task HandleExceptionsAsync(HttpContext context, RequestDelegate next)
    {
        try
        {
            await next(context);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away; there is nobody to answer.
        }
        catch (Exception exception)
        {
            var options = context.RequestServices.GetRequiredService<ApiOptions>();
            var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("LsmRaft.Host.Api");
            var problem = Resolve(exception, options, logger, context.Request.Method, context.Request.Path, context.TraceIdentifier);
            if (context.Response.HasStarted)
            {
                // Headers are gone; the only honest signal left is to abort the connection.
                context.Abort();
                return;
            }
            context.Response.Clear();
            await WriteAsync(context, problem);
        }
    }
}
