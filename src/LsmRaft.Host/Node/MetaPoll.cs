using System.Text.Json;
using LsmRaft.Host.Api;

namespace LsmRaft.Host.Node;

/// <summary>
/// The loop behind every periodic exchange with the meta group (node heartbeats, shard-map refreshes): run a round,
/// log a failed one at debug level and try again after <c>interval</c>, until the token is cancelled. A round fails
/// while the meta group elects or a peer is unreachable; the next round simply retries.
/// </summary>
internal static class MetaPoll
{
    public static async Task RunAsync(TimeSpan interval, Func<CancellationToken, Task> round, ILogger logger, string what, CancellationToken token)
    {
        while (!token.IsCancellationRequested)
        {
            try
            {
                await round(token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is KvException or IOException or TimeoutException or JsonException or ArgumentException)
            {
                if (!token.IsCancellationRequested)
                    logger.LogDebug("{What} failed: {Message}", what, e.Message);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                break;
            }
            try
            {
                await Task.Delay(interval, token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }
}
