using System.Diagnostics;
using System.Runtime.InteropServices;

namespace LsmRaft.MultiNode.Tests;

/// <summary>
/// One `lsmraft start` process configured only by the origin's environment variables. Output is kept for
/// failure messages; the process is killed (SIGKILL) by <see cref="Kill"/> and on dispose — only
/// processes this class started.
/// </summary>
internal sealed partial class NodeProcess : IDisposable
{
    private readonly Process _process;
    private readonly List<string> _output = new();
    private readonly TaskCompletionSource _serving = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public NodeProcess(string lsmraftDll, IReadOnlyDictionary<string, string> environment)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(lsmraftDll);
        info.ArgumentList.Add("start");
        foreach (var (name, value) in environment)
            info.Environment[name] = value;
        _process = Process.Start(info) ?? throw new InvalidOperationException("could not start dotnet");
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
                return;
            lock (_output)
                _output.Add(e.Data);
            // NodeRunner prints this line once Kestrel listens on both ports.
            if (e.Data.Contains("serving HTTP on", StringComparison.Ordinal))
                _serving.TrySetResult();
        };
        _process.Exited += (_, _) => _serving.TrySetException(new InvalidOperationException("the node process exited before it served HTTP"));
        _process.EnableRaisingEvents = true;
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.Add(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public bool HasExited => _process.HasExited;

    /// <summary>The exit code; only once <see cref="HasExited"/>.</summary>
    public int ExitCode => _process.ExitCode;

    /// <summary>How many lines of output (stdout and stderr) so far contain <paramref name="text"/>.</summary>
    public int CountLines(string text)
    {
        lock (_output)
            return _output.Count(line => line.Contains(text, StringComparison.Ordinal));
    }

    /// <summary>Waits for the process to exit; false at the deadline (the process is left running for the caller to kill).</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan deadline)
    {
        using var timeout = new CancellationTokenSource(deadline);
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>SIGTERM, as <c>docker stop</c> sends it: the node stops gracefully.</summary>
    public void Terminate()
    {
        if (!_process.HasExited && Kill(_process.Id, SigTerm) != 0)
            throw new InvalidOperationException($"kill(SIGTERM) of process {_process.Id} failed: errno {Marshal.GetLastPInvokeError()}");
    }

    private const int SigTerm = 15;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    /// <summary>Completes when the node reports that it listens (or fails if it exits first); false at the deadline.</summary>
    public async Task<bool> WaitServingAsync(TimeSpan deadline)
    {
        try
        {
            await _serving.Task.WaitAsync(deadline);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    public string Output
    {
        get { lock (_output) return string.Join(Environment.NewLine, _output.TakeLast(40)); }
    }

    /// <summary>kill -9: no shutdown hooks run, unsynced data is gone.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }
}
