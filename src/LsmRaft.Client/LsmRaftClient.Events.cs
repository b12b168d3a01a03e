using System.Globalization;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using LsmRaft.Client.Wire;
using LsmRaft.Protocol.Monitoring;

namespace LsmRaft.Client;

public sealed partial class LsmRaftClient
{
    /// <summary>
    /// Follows the first endpoint's <c>GET /v1/events</c>: a <see cref="ClusterEventKinds.Snapshot"/> event, then
    /// membership and leadership changes as that node sees them, until <paramref name="cancellationToken"/> is
    /// cancelled or the node ends the stream (it stops, or the reader fell behind). Connecting is bounded by
    /// <see cref="LsmRaftClientOptions.Timeout"/>; a failure to connect or a broken stream throws
    /// <see cref="LsmRaftException"/>. To resume without a gap, call again with the last event's
    /// <see cref="ClusterEvent.Sequence"/> as <paramref name="afterSequence"/> (the node replays what it still keeps).
    /// </summary>
    public async IAsyncEnumerable<ClusterEvent> FollowEventsAsync(long? afterSequence = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var endpoint = _options.Endpoints[0];
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(endpoint, "v1/events"));
        request.Headers.Accept.ParseAdd("text/event-stream");
        if (afterSequence is { } after)
            request.Headers.TryAddWithoutValidation("Last-Event-ID", after.ToString(CultureInfo.InvariantCulture));
        HttpResponseMessage response;
        using (var connect = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            connect.CancelAfter(_options.Timeout);
            try
            {
                response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, connect.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                throw new LsmRaftUnavailableException($"Could not open the event stream of {endpoint}: {e.Message}", null, null, inner: e);
            }
        }
        using (response)
        {
            await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
            var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            var items = SseParser.Create(stream).EnumerateAsync(cancellationToken).GetAsyncEnumerator(cancellationToken);
            await using (items.ConfigureAwait(false))
            {
                while (true)
                {
                    ClusterEvent? next;
                    try
                    {
                        if (!await items.MoveNextAsync().ConfigureAwait(false))
                            yield break;
                        if (items.Current.EventType == "traffic")
                            continue;
                        next = JsonSerializer.Deserialize<ClusterEvent>(items.Current.Data, WireJson.Lenient);
                    }
                    catch (Exception e) when (e is IOException or HttpRequestException && !cancellationToken.IsCancellationRequested)
                    {
                        throw new LsmRaftUnavailableException($"The event stream of {endpoint} broke: {e.Message}", null, null, inner: e);
                    }
                    catch (JsonException e)
                    {
                        throw new LsmRaftServerException($"The event stream of {endpoint} sent an event that is not the expected JSON: {e.Message}", 200, null);
                    }
                    if (next is not null)
                        yield return next;
                }
            }
        }
    }
}
