namespace LsmRaft.Client.Routing;

/// <summary>
/// The default resolver: every attempt goes to the preferred endpoint; an attempt that finds it unreachable or
/// unavailable moves the preference to the next configured endpoint, so a retry goes there. A leader hint moves the
/// preference to the hinted endpoint, learning it when it was not configured.
/// </summary>
public sealed class EndpointRouteResolver : IRouteResolver
{
    private readonly Lock _lock = new();

    // Invariant: non-empty; only grows (learned hints are appended), so an index stays valid.
    private Uri[] _endpoints;
    private int _preferred;

    public EndpointRouteResolver(IEnumerable<Uri> endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        _endpoints = endpoints.Select(Normalize).Distinct().ToArray();
        if (_endpoints.Length == 0)
            throw new ArgumentException("At least one endpoint is required, e.g. http://127.0.0.1:8081.", nameof(endpoints));
    }

    /// <summary>The endpoints known now, the configured ones first.</summary>
    public IReadOnlyList<Uri> Endpoints
    {
        get { lock (_lock) return _endpoints.ToArray(); }
    }

    /// <summary>The endpoint the next first attempt goes to.</summary>
    public Uri Preferred
    {
        get { lock (_lock) return _endpoints[_preferred]; }
    }

    public ValueTask<Uri> SelectAsync(RouteRequest request, int attempt, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(attempt);
        // The attempt number is not needed: the failure that caused a retry has already moved the preference.
        lock (_lock)
            return ValueTask.FromResult(_endpoints[_preferred]);
    }

    public void Report(RouteRequest request, Uri endpoint, RouteOutcome outcome, Uri? leaderHint)
    {
        lock (_lock)
        {
            if (leaderHint is not null && leaderHint.IsAbsoluteUri)
            {
                var hint = Normalize(leaderHint);
                int index = Array.IndexOf(_endpoints, hint);
                if (index < 0)
                {
                    _endpoints = [.. _endpoints, hint];
                    index = _endpoints.Length - 1;
                }
                _preferred = index;
                return;
            }
            // Only the failure of the current preference moves it; concurrent requests reporting the same failure
            // must not skip over healthy endpoints.
            if (outcome != RouteOutcome.Answered && Normalize(endpoint) == _endpoints[_preferred])
                _preferred = (_preferred + 1) % _endpoints.Length;
        }
    }

    private static Uri Normalize(Uri uri)
    {
        if (!uri.IsAbsoluteUri || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            throw new ArgumentException($"Endpoint '{uri}' must be an absolute http or https URI, e.g. http://127.0.0.1:8081.", nameof(uri));
        return new Uri(uri.GetLeftPart(UriPartial.Authority) + "/");
    }
}
