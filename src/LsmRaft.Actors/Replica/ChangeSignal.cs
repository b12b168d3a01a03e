namespace LsmRaft.Actors.Replica;

/// <summary>
/// Lets waiters sleep until something they watch may have changed, instead of polling on a timer:
/// producers call <see cref="Notify"/> after a change; <see cref="WaitUntilAsync"/> re-checks its condition
/// after every notification until it holds or the deadline passes. Thread-safe; no lost wake-ups (the
/// waiter takes the pending notification before it checks the condition).
/// </summary>
internal sealed class ChangeSignal
{
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Notify() =>
        Interlocked.Exchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    /// <summary>True once <paramref name="condition"/> holds; false if it still does not at the deadline.</summary>
    public async Task<bool> WaitUntilAsync(Func<bool> condition, TimeSpan deadline, CancellationToken cancellationToken = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(deadline);
        while (true)
        {
            var next = Volatile.Read(ref _next);
            if (condition())
                return true;
            try
            {
                await next.Task.WaitAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return condition();
            }
        }
    }
}
