namespace LsmRaft.Bench.Cli;

/// <summary>A command-line flag is unknown, malformed or out of range. The message names the flag; the program exits with code 2.</summary>
internal sealed class FlagException : Exception
{
    public FlagException(string flag, string message) : base($"--{flag}: {message}")
    {
        Flag = flag;
    }

    public string Flag { get; }
}
