using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using LsmRaft.Client;
using LsmRaft.Client.Wire;
using LsmRaft.Protocol.Monitoring;

namespace LsmRaft.Host.Cli;

/// <summary>
/// <c>lsmraft cluster tail [--json]</c>: follows the node's <c>/v1/events</c> stream and prints membership and
/// leadership events as they happen, one per line (or one JSON object per line), until Ctrl-C. A stream that breaks
/// after it was open is resumed (with the last event's sequence, so the node replays what it kept); a node that
/// cannot be reached at the start is an error (exit code 3).
/// </summary>
internal static class ClusterTailCommand
{
    private static readonly TimeSpan ReconnectDelay = TimeSpan.FromSeconds(1);

    public static Command Create(ClientCommandOptions shared, CliContext context)
    {
        var json = new Option<bool>("--json") { Description = "Print each event as one JSON object per line (for scripts)" };
        var tail = new Command("tail", "Follow membership and leadership events as they happen, until Ctrl-C.") { json };
        ClientCommandOptions.SetAction(tail, context, async (parseResult, cancellationToken) =>
        {
            using var client = shared.CreateClient(parseResult, context);
            bool asJson = parseResult.GetValue(json);
            long? last = null;
            bool connected = false;
            while (!cancellationToken.IsCancellationRequested)
            {
                try
                {
                    await foreach (var e in client.FollowEventsAsync(last, cancellationToken))
                    {
                        connected = true;
                        // A snapshot's sequence is the node's latest event: resuming after it replays nothing already shown.
                        last = e.Sequence;
                        await context.Out.WriteLineAsync(asJson ? JsonSerializer.Serialize(e, WireJson.Lenient) : Line(e));
                        await context.Out.FlushAsync(cancellationToken);
                    }
                    if (!cancellationToken.IsCancellationRequested)
                        await context.Error.WriteLineAsync("lsmraft: the node ended the event stream; reconnecting");
                }
                catch (LsmRaftUnavailableException e) when (connected)
                {
                    await context.Error.WriteLineAsync($"lsmraft: {e.Message}; reconnecting");
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    break;
                }
                try
                {
                    await Task.Delay(ReconnectDelay, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
            return ExitCodes.Ok;
        });
        return tail;
    }

    /// <summary>"2026-12-04 11:40:14Z  leader-changed   shard 3: leader 1 -> 2 (epoch 4)".</summary>
    internal static string Line(ClusterEvent e) =>
        $"{e.Time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture)}  {e.Kind,-15}  {e.Text}";
}
