namespace LsmRaft.Host.Cli;

/// <summary>Progress of a long action on stderr: a line whenever what the action's observer sees changes.</summary>
internal static class Progress
{
    /// <summary>How often the observer looks.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Until <paramref name="work"/> ends, asks <paramref name="describe"/> every <see cref="Interval"/> and writes its
    /// answer to <paramref name="error"/> when it differs from the last. A failed look is skipped: the action's own
    /// outcome decides the exit code.
    /// </summary>
    public static async Task ReportWhileAsync(Task work, TextWriter error, Func<CancellationToken, Task<string?>> describe, CancellationToken cancellationToken)
    {
        string? last = null;
        while (!work.IsCompleted)
        {
            await Task.WhenAny(work, Task.Delay(Interval, cancellationToken)).ConfigureAwait(false);
            if (work.IsCompleted || cancellationToken.IsCancellationRequested)
                return;
            string? line;
            try
            {
                line = await describe(cancellationToken).ConfigureAwait(false);
            }
            catch (LsmRaft.Client.LsmRaftException)
            {
                continue;
            }
            if (line is not null && line != last)
                await error.WriteLineAsync($"lsmraft: {line}").ConfigureAwait(false);
            last = line ?? last;
        }
    }
}
