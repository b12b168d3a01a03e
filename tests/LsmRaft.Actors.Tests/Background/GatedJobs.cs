using LsmRaft.Storage;

namespace LsmRaft.Actors.Tests.Background;

/// <summary>Counts jobs running at once across a set of gated jobs (the highest count seen).</summary>
internal sealed class Concurrency
{
    private int _running;
    private int _max;

    public int Max => Volatile.Read(ref _max);

    public void Enter()
    {
        int now = Interlocked.Increment(ref _running);
        int max;
        while (now > (max = Volatile.Read(ref _max)) && Interlocked.CompareExchange(ref _max, now, max) != max)
        {
        }
    }

    public void Exit() => Interlocked.Decrement(ref _running);
}

/// <summary>What a gated job does: reports its start, waits for the test to open the gate, writes <c>bytes</c>.</summary>
internal sealed class Gate(long bytes, Concurrency? concurrency = null, bool fail = false)
{
    private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public long Bytes => bytes;
    public Task Started => _started.Task;
    public Task Done => _done.Task;
    public bool HasStarted => _started.Task.IsCompleted;

    public void Open() => _open.TrySetResult();

    public async Task<long> RunAsync()
    {
        concurrency?.Enter();
        _started.TrySetResult();
        try
        {
            await _open.Task.ConfigureAwait(false);
            if (fail)
                throw new IOException("injected job failure");
            return bytes;
        }
        finally
        {
            concurrency?.Exit();
            _done.TrySetResult();
        }
    }
}

internal sealed class GatedFlushJob(Gate gate) : FlushJob("flush-test")
{
    public Gate Gate => gate;
    public override long EstimateBytes() => gate.Bytes;
    public override Task<long> RunAsync(CancellationToken cancellationToken) => gate.RunAsync();
}

internal sealed class GatedCompactionJob(Gate gate) : CompactionJob("compaction-test")
{
    public Gate Gate => gate;
    public override long EstimateBytes() => gate.Bytes;
    public override Task<long> RunAsync(CancellationToken cancellationToken) => gate.RunAsync();
}
