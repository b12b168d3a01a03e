namespace LsmRaft.Storage;

/// <summary>
/// Caps how many compactions run at once across every engine that shares this object, so a node
/// with many replicas does not saturate its disk with background merges.
/// </summary>
public sealed class CompactionLimiter
{
    private readonly SemaphoreSlim _slots;

    public CompactionLimiter(int maxConcurrentCompactions)
    {
        if (maxConcurrentCompactions < 1)
            throw new InvalidOptionException(nameof(maxConcurrentCompactions), "must be at least 1");
        MaxConcurrent = maxConcurrentCompactions;
        _slots = new SemaphoreSlim(maxConcurrentCompactions, maxConcurrentCompactions);
    }

    /// <summary>Shared by engines opened without an explicit limiter: max(1, processors / 2) slots.</summary>
    public static CompactionLimiter ProcessWide { get; } = new(Math.Max(1, Environment.ProcessorCount / 2));

    public int MaxConcurrent { get; }

    internal Task AcquireAsync(CancellationToken cancellationToken) => _slots.WaitAsync(cancellationToken);

    internal void Release() => _slots.Release();
}
