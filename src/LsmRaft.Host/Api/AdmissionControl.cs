namespace LsmRaft.Host.Api;

/// <summary>
/// Bounds the requests served at once on a node. A request over the bound is answered 429 with Retry-After
/// immediately: overload must shed load, not grow queues (whose waiting requests would time out anyway).
/// Health probes, the OpenAPI document and the metrics scrape are exempt so a busy node is not reported dead (and is
/// seen busy); so are the admin UI's files and the event stream (long-lived: it would hold a slot for as long as a
/// browser tab stays open).
/// </summary>
internal sealed class AdmissionControl(ApiOptions options)
{
    private readonly int _limit = options.MaxInFlightRequests;
    private int _inFlight;

    /// <summary>Requests admitted and not yet finished.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Admits a request when fewer than the limit are in flight; a true result must be paired with <see cref="Exit"/>.</summary>
    public bool TryEnter()
    {
        if (Interlocked.Increment(ref _inFlight) <= _limit)
            return true;
        Interlocked.Decrement(ref _inFlight);
        return false;
    }

    public void Exit() => Interlocked.Decrement(ref _inFlight);

    public static bool IsExempt(PathString path) =>
        path.StartsWithSegments("/healthz") || path.StartsWithSegments("/readyz") || path.StartsWithSegments("/openapi")
        || path.StartsWithSegments("/ui") || path.StartsWithSegments("/v1/events")
        || path.StartsWithSegments(Metrics.NodeTelemetry.ScrapePath);

    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        if (IsExempt(context.Request.Path))
        {
            await next(context);
            return;
        }
        if (!TryEnter())
        {
            await ProblemMapping.WriteAsync(context, new ApiProblem(429, "overloaded", "Too many requests",
                $"The node is serving its limit of {_limit} requests (setting MaxInFlightRequests). Retry later or send to another node.",
                options.RetryAfterSeconds));
            return;
        }
        try
        {
            await next(context);
        }
        finally
        {
            Exit();
        }
    }
}
