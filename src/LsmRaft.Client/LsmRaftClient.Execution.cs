using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using LsmRaft.Client.Routing;
using LsmRaft.Client.Wire;

namespace LsmRaft.Client;

public sealed partial class LsmRaftClient
{
    /// <summary>
    /// Runs a request, retrying within the deadline as the retry policy and <paramref name="idempotent"/> allow:
    /// <paramref name="attempt"/> sends it once to an endpoint over the transport and either returns the answer,
    /// throws an <see cref="LsmRaftException"/> for a definite answer, or throws a <see cref="RetryableFailure"/>.
    /// Every failure leaves as an <see cref="LsmRaftException"/>, or an <see cref="OperationCanceledException"/> when
    /// the caller cancelled. The same loop serves both transports, so retries, deadlines and routing cannot differ.
    /// </summary>
    private async Task<T> ExecuteAsync<T>(
        RouteRequest route,
        bool idempotent,
        Func<Uri, CancellationToken, Task<T>> attempt,
        CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_options.Timeout);
        long started = Environment.TickCount64;
        var token = deadline.Token;
        LsmRaftException? lastFailure = null;
        try
        {
            for (int number = 0; ; number++)
            {
                var endpoint = await _resolver.SelectAsync(route, number, token).ConfigureAwait(false);
                TimeSpan? retryAfter;
                bool retryable;
                try
                {
                    return await attempt(endpoint, token).ConfigureAwait(false);
                }
                catch (RetryableFailure failure)
                {
                    _resolver.Report(route, endpoint, failure.Outcome, failure.LeaderHint);
                    lastFailure = failure.Error;
                    retryAfter = failure.RetryAfter;
                    retryable = idempotent || failure.NotApplied;
                }
                if (!retryable || number + 1 >= _options.Retry.MaxAttempts)
                    throw lastFailure;
                var delay = ComputeDelay(number + 1, retryAfter);
                var remaining = _options.Timeout - TimeSpan.FromMilliseconds(Environment.TickCount64 - started);
                if (delay >= remaining)
                    throw lastFailure;
                await Task.Delay(delay, token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is not LsmRaftException && deadline.IsCancellationRequested)
        {
            // Transports report an abort by cancellation in several ways (TaskCanceledException, IOException, an
            // RpcException with CANCELLED); the caller sees one: its own cancellation, or the deadline.
            cancellationToken.ThrowIfCancellationRequested();
            string last = lastFailure is null ? "" : $" Last failure: {lastFailure.Message}";
            throw new LsmRaftTimeoutException($"No answer within the deadline of {_options.Timeout.TotalMilliseconds:0} ms.{last}", ex);
        }
    }

    /// <summary>
    /// An attempt that may be repeated: the endpoint was unreachable (<see cref="RouteOutcome.Unreachable"/>) or
    /// answered 429/503 (<see cref="RouteOutcome.Unavailable"/>). <see cref="NotApplied"/> is true when the failure
    /// proves the request had no effect (429, or no connection was ever made), so even a non-idempotent one is repeated.
    /// </summary>
    private sealed class RetryableFailure(RouteOutcome outcome, LsmRaftException error, bool notApplied, TimeSpan? retryAfter, Uri? leaderHint)
        : Exception(error.Message, error)
    {
        public RouteOutcome Outcome { get; } = outcome;
        public LsmRaftException Error { get; } = error;
        public bool NotApplied { get; } = notApplied;
        public TimeSpan? RetryAfter { get; } = retryAfter;
        public Uri? LeaderHint { get; } = leaderHint;
    }

    /// <summary>One attempt over HTTP: sends the request built for the endpoint and interprets an answer that is not retried.</summary>
    private Func<Uri, CancellationToken, Task<T>> OverHttp<T>(
        RouteRequest route, bool idempotent, Func<Uri, HttpRequestMessage> build, Func<HttpResponseMessage, CancellationToken, Task<T>> interpret) =>
        async (endpoint, token) =>
        {
            using var request = build(endpoint);
            HttpResponseMessage response;
            try
            {
                response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, token).ConfigureAwait(false);
            }
            catch (HttpRequestException ex)
            {
                // A connection that was never established carried nothing, so even a non-idempotent request was not applied.
                throw new RetryableFailure(RouteOutcome.Unreachable, new LsmRaftUnavailableException($"Could not reach {endpoint}: {ex.Message}", null, null, inner: ex),
                    notApplied: ex.HttpRequestError == HttpRequestError.ConnectionError, null, null);
            }
            using (response)
            {
                var hint = LeaderHint(response);
                int status = (int)response.StatusCode;
                if (status is 429 or 503 || (idempotent && status is 502 or 504))
                {
                    // 429 is the node's admission control turning the request away before any work.
                    throw new RetryableFailure(RouteOutcome.Unavailable, await ToExceptionAsync(response, token).ConfigureAwait(false),
                        notApplied: status == 429, RetryAfter(response), hint);
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
        };

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
        return ToException(status, message, problem?.Type, problem?.CurrentVersion, problem?.CorrelationId, RetryAfter(response));
    }

    /// <summary>The exception of an error answer by its HTTP status (over gRPC, the status REST would have answered).</summary>
    internal static LsmRaftException ToException(int status, string message, string? type, ulong? currentVersion, string? correlationId, TimeSpan? retryAfter) =>
        status switch
        {
            400 => new LsmRaftBadRequestException(message, type),
            404 => new LsmRaftNotFoundException(message, type),
            409 when currentVersion is null && type is not null && !type.EndsWith(":version-conflict", StringComparison.Ordinal) =>
                new LsmRaftOperationConflictException(message, type),
            409 => new LsmRaftVersionConflictException(message, currentVersion, type),
            413 => new LsmRaftTooLargeException(message, type),
            429 or 502 or 503 or 504 => new LsmRaftUnavailableException(message, status, retryAfter, type),
            _ => new LsmRaftServerException(message, status, correlationId, type),
        };

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
