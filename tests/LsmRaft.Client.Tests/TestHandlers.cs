using System.Collections.Concurrent;

namespace LsmRaft.Client.Tests;

/// <summary>
/// Sits in front of the in-process server: answers the first <see cref="FailuresLeft"/> requests itself with
/// <see cref="FailureStatus"/> (and Retry-After), then forwards; records every request's method and endpoint.
/// </summary>
internal sealed class FailingHandler(HttpMessageHandler inner, int failures, HttpStatusCode failureStatus, int? retryAfterSeconds = 1)
    : DelegatingHandler(inner)
{
    private int _failuresLeft = failures;

    public ConcurrentQueue<string> Requests { get; } = new();

    public int FailuresLeft => Volatile.Read(ref _failuresLeft);

    public HttpStatusCode FailureStatus => failureStatus;

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Requests.Enqueue($"{request.Method} {request.RequestUri!.GetLeftPart(UriPartial.Authority)}");
        if (Interlocked.Decrement(ref _failuresLeft) >= 0)
        {
            var response = new HttpResponseMessage(failureStatus) { RequestMessage = request };
            if (retryAfterSeconds is { } seconds)
                response.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(TimeSpan.FromSeconds(seconds));
            return Task.FromResult(response);
        }
        return base.SendAsync(request, cancellationToken);
    }
}

/// <summary>Refuses connections to the listed hosts (as if nothing listened there) and forwards the rest.</summary>
internal sealed class RefusingHandler(HttpMessageHandler inner, params string[] refusedAuthorities) : DelegatingHandler(inner)
{
    public ConcurrentQueue<string> Requests { get; } = new();

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        string authority = request.RequestUri!.Authority;
        Requests.Enqueue(authority);
        if (refusedAuthorities.Contains(authority))
            throw new HttpRequestException(HttpRequestError.ConnectionError, $"Connection refused ({authority})");
        return base.SendAsync(request, cancellationToken);
    }
}

/// <summary>Never answers: every request waits until it is cancelled. <see cref="Entered"/> counts arrivals.</summary>
internal sealed class SilentHandler : HttpMessageHandler
{
    public SemaphoreSlim Entered { get; } = new(0);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Entered.Release();
        await Task.Delay(Timeout.Infinite, cancellationToken);
        throw new InvalidOperationException("unreachable: the delay only ends by cancellation");
    }
}

/// <summary>Forwards, adding a leader hint header to every answer.</summary>
internal sealed class HintingHandler(HttpMessageHandler inner, string hint) : DelegatingHandler(inner)
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken);
        response.Headers.TryAddWithoutValidation(Wire.WireNames.LeaderHintHeader, hint);
        return response;
    }
}
