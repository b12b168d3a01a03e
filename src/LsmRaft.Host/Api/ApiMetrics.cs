using System.Diagnostics.Metrics;

namespace LsmRaft.Host.Api;

/// <summary>
/// The API's own instrument, beside ASP.NET Core's <c>http.server.request.duration</c> (route, method, status):
/// <c>lsmraft.api.rejections</c>, requests refused with 429 (overloaded) or 503 (no leader, no quorum, timed out,
/// not ready), tagged <c>status</c> and <c>reason</c> (the problem type's slug, docs/api.md). Meter <see cref="MeterName"/>,
/// from the application's <see cref="IMeterFactory"/>.
/// </summary>
internal sealed class ApiMetrics
{
    public const string MeterName = "LsmRaft.Api";

    private readonly Counter<long> _rejections;

    public ApiMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _rejections = meter.CreateCounter<long>("lsmraft.api.rejections", "{request}", "Requests refused with 429 or 503, by status and reason");
    }

    /// <summary>Counts <paramref name="problem"/> when it refuses the request for want of capacity or of a leader.</summary>
    public void Answered(ApiProblem problem)
    {
        if (problem.Status is 429 or 503)
            _rejections.Add(1, new KeyValuePair<string, object?>("status", problem.Status), new KeyValuePair<string, object?>("reason", problem.Slug));
    }
}
