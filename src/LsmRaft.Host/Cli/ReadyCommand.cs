using System.CommandLine;
using System.Globalization;
using System.Text.Json;

namespace LsmRaft.Host.Cli;

/// <summary>
/// <c>lsmraft ready</c>: asks a node's <c>GET /readyz</c> and exits 0 when it answers 200, else 1 with the reason — the
/// container image's HEALTHCHECK, since the ASP.NET runtime image has no curl. Without <c>--endpoint</c> it asks
/// <c>http://127.0.0.1:$HTTP_PORT</c>, the node of the same container.
/// </summary>
internal static class ReadyCommand
{
    public static Command Create(CliContext context)
    {
        var endpoint = new Option<string?>("--endpoint") { Description = "HTTP endpoint of the node (default http://127.0.0.1:$HTTP_PORT, or port 8081)" };
        var timeout = new Option<double>("--timeout") { Description = "Seconds to wait for the answer", DefaultValueFactory = _ => 5.0 };
        var command = new Command("ready", "Exit 0 when the node answers GET /readyz with 200, else 1 with the reason (a container HEALTHCHECK).") { endpoint, timeout };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            string httpPort = context.Environment.GetValueOrDefault("HTTP_PORT") is { Length: > 0 } port ? port.Trim() : "8081";
            string target = parseResult.GetValue(endpoint) ?? $"http://127.0.0.1:{httpPort}";
            if (!Uri.TryCreate(target, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            {
                await context.Error.WriteLineAsync($"lsmraft: --endpoint (or HTTP_PORT) gives '{target}': expected an http(s) URL such as http://127.0.0.1:8081.");
                return ExitCodes.BadInput;
            }
            double seconds = parseResult.GetValue(timeout);
            if (!(seconds > 0 && seconds <= 3600))
            {
                await context.Error.WriteLineAsync($"lsmraft: --timeout is {seconds.ToString(CultureInfo.InvariantCulture)}: expected seconds in (0, 3600].");
                return ExitCodes.BadInput;
            }
            using var http = context.HttpHandler is { } handler ? new HttpClient(handler, disposeHandler: false) : new HttpClient();
            http.Timeout = TimeSpan.FromSeconds(seconds);
            try
            {
                using var response = await http.GetAsync(new Uri(uri, "/readyz"), cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    await context.Out.WriteLineAsync($"ready: {uri}");
                    return ExitCodes.Ok;
                }
                await context.Error.WriteLineAsync($"lsmraft: not ready ({(int)response.StatusCode}): {Reason(await response.Content.ReadAsStringAsync(cancellationToken))}");
                return ExitCodes.NotReady;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                await context.Error.WriteLineAsync($"lsmraft: not ready: {uri} does not answer ({e.Message}).");
                return ExitCodes.NotReady;
            }
        });
        return command;
    }

    /// <summary>The problem details' <c>detail</c>, or the body itself when it is not a problem document.</summary>
    private static string Reason(string body)
    {
        try
        {
            using var problem = JsonDocument.Parse(body);
            if (problem.RootElement.ValueKind == JsonValueKind.Object && problem.RootElement.TryGetProperty("detail", out var detail) && detail.ValueKind == JsonValueKind.String)
                return detail.GetString()!;
        }
        catch (JsonException)
        {
        }
        return body.Length > 300 ? body[..300] : body;
    }
}
