namespace LsmRaft.Host.Api;

/// <summary>
/// Whether this node can serve requests now (for <c>GET /readyz</c>): false while it is starting, rejoining or
/// shutting down. Register it in DI, or let the <see cref="IKvService"/> implementation implement it; with neither,
/// a node whose API is up counts as ready.
/// </summary>
public interface IReadiness
{
    bool IsReady { get; }

    /// <summary>Why the node is not ready (shown to operators), null when ready.</summary>
    string? Reason { get; }

    /// <summary>
    /// Waits until the node is ready or <paramref name="timeout"/> passes (for <c>GET /readyz?wait=</c>); returns
    /// whether it is ready. The default answers at once; implementations that know when readiness changes wait.
    /// </summary>
    Task<bool> WaitUntilReadyAsync(TimeSpan timeout, CancellationToken cancellationToken) => Task.FromResult(IsReady);
}
