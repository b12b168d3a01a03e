using System.Diagnostics;

namespace LsmRaft.Bench.Metrics;

/// <summary>The process's peak working set so far (Linux: VmHWM, the high-water mark of resident memory).</summary>
internal static class PeakMemory
{
    public static double PeakWorkingSetMiB()
    {
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        return process.PeakWorkingSet64 / (1024.0 * 1024.0);
    }
}
