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

    /// <summary>A Spectre console over <see cref="Out"/>; plain text, 200 columns wide, unless writing to a real terminal.</summary>
    public IAnsiConsole CreateConsole()
    {
        bool terminal = ReferenceEquals(Out, Console.Out) && !Console.IsOutputRedirected;
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(Out),
            Ansi = terminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = terminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
        // Piped output has no width to fit; wrapping addresses and hash ranges would only make it harder to read or grep.
        if (!terminal)
            console.Profile.Width = 200;
        return console;
    }
}
