using System.Collections;
using LsmRaft.Host.Config;
using Spectre.Console;

namespace LsmRaft.Host.Cli;

/// <summary>
/// What the commands touch outside themselves, so a test can run them in-process: output writers, the environment,
/// the node runner, and the HTTP handler client commands send through (null = real sockets).
/// </summary>
internal sealed record CliContext(
    TextWriter Out,
    TextWriter Error,
    IReadOnlyDictionary<string, string?> Environment,
    bool InContainer,
    INodeRunner? NodeRunner,
    HttpMessageHandler? HttpHandler)
{
    public static CliContext ForProcess(INodeRunner? nodeRunner)
    {
        var environment = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in System.Environment.GetEnvironmentVariables())
            environment[(string)entry.Key] = (string?)entry.Value;
        return new CliContext(Console.Out, Console.Error, environment, ConfigLoader.DetectContainer(environment), nodeRunner, null);
    }

    /// <summary>A Spectre console over <see cref="Out"/>; plain text unless writing to a real terminal.</summary>
    public IAnsiConsole CreateConsole() => AnsiConsole.Create(new AnsiConsoleSettings
    {
        Out = new AnsiConsoleOutput(Out),
        Ansi = ReferenceEquals(Out, Console.Out) ? AnsiSupport.Detect : AnsiSupport.No,
        ColorSystem = ReferenceEquals(Out, Console.Out) ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
        Interactive = InteractionSupport.No,
    });
}
