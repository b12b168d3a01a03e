using Spectre.Console;

namespace LsmRaft.Bench.Storage;

/// <summary>
/// A progress bar while a benchmark runs, only on an interactive terminal: redirected output (a
/// script, a file, CI) gets the result lines and nothing else. The bar polls the threads' counters
/// ten times a second; the threads never wait for it.
/// </summary>
internal static class ProgressDisplay
{
    public static void WaitShowingProgress(string name, long expected, IReadOnlyList<ThreadStats> threads, WaitHandle finished)
    {
        if (Console.IsOutputRedirected)
        {
            finished.WaitOne();
            return;
        }
        AnsiConsole.Progress()
            .AutoClear(true)
            .HideCompleted(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .Start(context =>
            {
                var task = context.AddTask(name, maxValue: Math.Max(1, expected));
                while (!finished.WaitOne(100))
                    task.Value = Sum(threads);
                task.Value = task.MaxValue;
            });
    }

    private static long Sum(IReadOnlyList<ThreadStats> threads)
    {
        long sum = 0;
        for (int i = 0; i < threads.Count; i++)
            sum += threads[i].Done;
        return sum;
    }
}
