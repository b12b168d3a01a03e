using Grpc.Core;
using Grpc.Core.Interceptors;

namespace LsmRaft.Host.Api.Grpc;

/// <summary>
/// Turns what a gRPC service method throws into the status REST would answer, through the one mapping both share
/// (<see cref="ProblemMapping.Resolve"/>). A call the client cancelled, or whose deadline passed, is left to the
/// framework, which answers CANCELLED or DEADLINE_EXCEEDED.
/// </summary>
internal sealed class GrpcErrorInterceptor(ApiOptions options, ILoggerFactory loggers) : Interceptor
{
    private readonly ILogger _logger = loggers.CreateLogger("LsmRaft.Host.Api");

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context).ConfigureAwait(false);
        }
        catch (Exception e) when (Translate(e, context) is { } status)
        {
            throw status;
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(request, responseStream, context).ConfigureAwait(false);
        }
        catch (Exception e) when (Translate(e, context) is { } status)
        {
            throw status;
        }
    }

    private RpcException? Translate(Exception exception, ServerCallContext context)
    {
        if (exception is RpcException || (exception is OperationCanceledException && context.CancellationToken.IsCancellationRequested))
            return null;
        var http = context.GetHttpContext();
        return GrpcProblems.ToRpcException(ProblemMapping.Resolve(exception, options, _logger, "POST", context.Method, http.TraceIdentifier));
    }
}
