using System.CommandLine;
using LsmRaft.Client;

namespace LsmRaft.Host.Cli;

/// <summary>Bad command-line input found after parsing (a malformed key, an invalid endpoint); exit code 2.</summary>
internal sealed class CliUsageException(string message) : Exception(message);

/// <summary>The options every command that talks to a node shares, and the error handling around such commands.</summary>
internal sealed class ClientCommandOptions
{
    public Option<string> Endpoint { get; } = new("--endpoint")
    {
        Description = "HTTP endpoint of any node",
        DefaultValueFactory = _ => "http://127.0.0.1:8081",
        Recursive = true,
    };

    public Option<double> Timeout { get; } = new("--timeout")
    {
        Description = "Deadline per request in seconds, retries included",
        DefaultValueFactory = _ => 10.0,
        Recursive = true,
    };

    public Option<string?> Token { get; } = new("--token")
    {
        Description = "Admin bearer token (the node's AdminToken setting)",
        Recursive = true,
    };

    public void AddTo(Command command)
    {
        command.Options.Add(Endpoint);
        command.Options.Add(Timeout);
        command.Options.Add(Token);
    }

    /// <summary>A client for <c>--endpoint</c> with the <c>--timeout</c> deadline, raised to <paramref name="minimumTimeout"/> for actions known to take longer.</summary>
    public LsmRaftClient CreateClient(ParseResult parseResult, CliContext context, TimeSpan? minimumTimeout = null)
    {
        string endpoint = parseResult.GetValue(Endpoint)!;
        if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            throw new CliUsageException($"--endpoint is '{endpoint}': expected an http(s) URL such as http://127.0.0.1:8081.");
        double seconds = parseResult.GetValue(Timeout);
        if (!(seconds > 0 && seconds <= 3600))
            throw new CliUsageException($"--timeout is {seconds}: expected seconds in (0, 3600].");
        return new LsmRaftClient(new LsmRaftClientOptions
        {
            Endpoints = [uri],
            Timeout = minimumTimeout is { } minimum && minimum > TimeSpan.FromSeconds(seconds) ? minimum : TimeSpan.FromSeconds(seconds),
            Handler = context.HttpHandler,
            AdminToken = parseResult.GetValue(Token) ?? context.Environment.GetValueOrDefault("LSMRAFT_ADMIN_TOKEN"),
        });
    }

    /// <summary>Runs a client command, turning failures into a one-line message on stderr and the matching exit code.</summary>
    public static void SetAction(Command command, CliContext context, Func<ParseResult, CancellationToken, Task<int>> action) =>
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            try
            {
                return await action(parseResult, cancellationToken);
            }
            catch (CliUsageException e)
            {
                await context.Error.WriteLineAsync($"lsmraft: {e.Message}");
                return ExitCodes.BadInput;
            }
            catch (LsmRaftException e)
            {
                await context.Error.WriteLineAsync($"lsmraft: {e.Message}");
                return ExitCodes.For(e);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                await context.Error.WriteLineAsync("lsmraft: cancelled.");
                return ExitCodes.Unavailable;
            }
        });
}
