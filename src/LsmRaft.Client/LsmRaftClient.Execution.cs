using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using LsmRaft.Client.Routing;
using LsmRaft.Client.Wire;

namespace LsmRaft.Client;

public sealed partial class LsmRaftClient
{
    /// <summary>
    /// Sends a request, retrying within the deadline as the retry policy and <paramref name="idempotent"/> allow, and
    /// interprets the first answer that is not retried. Every failure leaves as an <see cref="LsmRaftException"/>, or
    /// an <see cref="OperationCanceledException"/> when the caller cancelled.
    /// </summary>
    private async Task<T> ExecuteAsync<T>(
        RouteRequest route,
        bool idempotent,
        Func<Uri, HttpRequestMessage> build,
        Func<HttpResponseMessage, CancellationToken, Task<T>> interpret,
        CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_options.Timeout);
        long started = Environment.TickCount64;
        var token = deadline.Token;
        LsmRaftException? lastFailure = null;
        try
        {
            for (int attempt = 0; ; attempt++)
            {
                var endpoint = await _resolver.SelectAsync(route, attempt, token).ConfigureAwait(false);
                TimeSpan? retryAfter = null;
                bool retryable;
                using (var request = build(endpoint))
                {
                    HttpResponseMessage response;
                    try
                    {
                        response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, token).ConfigureAwait(false);
                    }
                    catch (HttpRequestException ex)
                    {
                        _resolver.Report(route, endpoint, RouteOutcome.Unreachable, null);
                        lastFailure = new LsmRaftUnavailableException(
                            $"Could not reach {endpoint}: {ex.Message}", null, null, inner: ex);
                        // A connection that was never established carried nothing, so even a non-idempotent request was not applied.
                        retryable = idempotent || ex.HttpRequestError == HttpRequestError.ConnectionError;
                        goto Retry;
                    }
                    using (response)
                    {
                        var hint = LeaderHint(response);
                        int status = (int)response.StatusCode;
                        if (status is 429 or 503 || (idempotent && status is 502 or 504))
                        {
                            _resolver.Report(route, endpoint, RouteOutcome.Unavailable, hint);
                            retryAfter = RetryAfter(response);
                            lastFailure = await ToExceptionAsync(response, token).ConfigureAwait(false);
                            // 429 is the node's admission control turning the request away before any work.
                            retryable = idempotent || status == 429;
                            goto Retry;
                        }
                        _resolver.Report(route, endpoint, RouteOutcome.Answered, hint);
                        try
                        {
                            return await interpret(response, token).ConfigureAwait(false);
                        }
                        catch (Exception ex) when (ex is IOException or HttpRequestException && !token.IsCancellationRequested)
                        {
                            // The request may have been applied; only the answer was lost, so it is not retried.
                            throw new LsmRaftUnavailableException($"The connection to {endpoint} broke while reading the answer: {ex.Message}", null, null, inner: ex);
                        }
                    }
                }

            Retry:
                if (!retryable || attempt + 1 >= _options.Retry.MaxAttempts)
                    throw lastFailure;
                var delay = ComputeDelay(attempt + 1, retryAfter);
                var remaining = _options.Timeout - TimeSpan.FromMilliseconds(Environment.TickCount64 - started);
                if (delay >= remaining)
                    throw lastFailure;
                await Task.Delay(delay, token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is not LsmRaftException && deadline.IsCancellationRequested)
        {
            // Transports report an abort by cancellation in several ways (TaskCanceledException, IOException);
            // the caller sees one: its own cancellation, or the deadline.
            cancellationToken.ThrowIfCancellationRequested();
            string last = lastFailure is null ? "" : $" Last failure: {lastFailure.Message}";
            throw new LsmRaftTimeoutException($"No answer within the deadline of {_options.Timeout.TotalMilliseconds:0} ms.{last}", ex);
        }
    }

    /// <summary>The wait before retry <paramref name="retry"/> (1-based); see <see cref="LsmRaftRetryPolicy"/>.</summary>
    internal TimeSpan ComputeDelay(int retry, TimeSpan? retryAfter)
    {
        var policy = _options.Retry;
        double backoff = policy.InitialBackoff.TotalMilliseconds * Math.Pow(policy.Multiplier, retry - 1);
        backoff = Math.Min(backoff, policy.MaxBackoff.TotalMilliseconds);
        double factor;
        lock (_jitterLock)
            factor = 1.0 - policy.Jitter * _jitter.NextDouble();
        var delay = TimeSpan.FromMilliseconds(backoff * factor);
        if (retryAfter is { } serverDelay)
        {
            var capped = serverDelay < policy.MaxRetryAfter ? serverDelay : policy.MaxRetryAfter;
            if (capped > delay)
                delay = capped;
        }
        return delay;
    }

    private static TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        var header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta)
            return delta;
        if (header?.Date is { } date)
        {
            var wait = date - DateTimeOffset.UtcNow;
            return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
        }
        return null;
    }

    private static Uri? LeaderHint(HttpResponseMessage response) =>
        response.Headers.TryGetValues(WireNames.LeaderHintHeader, out var values)
        && Uri.TryCreate(values.FirstOrDefault(), UriKind.Absolute, out var hint)
            ? hint
            : null;

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (!response.IsSuccessStatusCode)
            throw await ToExceptionAsync(response, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The typed exception of an error answer, its message the problem's detail (or title) text.</summary>
    private static async Task<LsmRaftException> ToExceptionAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        int status = (int)response.StatusCode;
        var problem = await ReadProblemAsync(response, cancellationToken).ConfigureAwait(false);
        string message = problem?.Detail ?? problem?.Title ?? $"The server answered {status} {response.ReasonPhrase}.";
        string? type = problem?.Type;
        return status switch
        {
            400 => new LsmRaftBadRequestException(message, type),
            404 => new LsmRaftNotFoundException(message, type),
            409 when problem?.CurrentVersion is null && type is not null && !type.EndsWith(":version-conflict", StringComparison.Ordinal) =>
                new LsmRaftOperationConflictException(message, type),
            409 => new LsmRaftVersionConflictException(message, problem?.CurrentVersion, type),
            413 => new LsmRaftTooLargeException(message, type),
            429 or 502 or 503 or 504 => new LsmRaftUnavailableException(message, status, RetryAfter(response), type),
            _ => new LsmRaftServerException(message, status, problem?.CorrelationId, type),
        };
    }

    private static async Task<Problem?> ReadProblemAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        string? mediaType = response.Content.Headers.ContentType?.MediaType;
        if (mediaType is not (WireNames.ProblemJson or "application/json"))
            return null;
        try
        {
            return await response.Content.ReadFromJsonAsync<Problem>(WireJson.Lenient, cancellationToken).ConfigureAwait(false);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The members of an RFC 9457 problem the client uses, with LsmRaft's extensions.</summary>
    private sealed record Problem(string? Type, string? Title, int? Status, string? Detail, ulong? CurrentVersion, string? CorrelationId);
}
