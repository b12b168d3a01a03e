using System.Threading.Channels;

namespace LsmRaft.Actors.Kernel.Testing;

/// <summary>An expectation of a <see cref="TestProbe{T}"/> was not met.</summary>
internal sealed class ProbeAssertionException(string message) : Exception(message);

/// <summary>
/// An <see cref="ActorRef{T}"/> that records every message it is told, for tests. Never full.
/// </summary>
internal sealed class TestProbe<T> : ActorRef<T>
{
    private readonly Channel<T> _received = Channel.CreateUnbounded<T>();
    private readonly ActorSystem _system;

    public TestProbe(ActorSystem system, string name = "probe")
    {
        _system = system;
        Path = "/probe/" + name;
    }

    public override string Path { get; }

    protected override TimeProvider Time => _system.Time;

    public override bool Tell(T message) => _received.Writer.TryWrite(message);

    public override ValueTask<bool> TellAsync(T message, CancellationToken cancellationToken = default) => new(Tell(message));

    /// <summary>
    /// Takes the next message and checks it against <paramref name="predicate"/>. The
    /// <paramref name="deadline"/> is measured on the real clock even when the system runs on a
    /// <see cref="ManualTimeProvider"/>: it only bounds how long a failing test hangs, it never
    /// decides a passing one.
    /// </summary>
    public async Task<T> ExpectMsgAsync(Func<T, bool> predicate, TimeSpan deadline, CancellationToken cancellationToken = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(deadline);
        T message;
        try
        {
            message = await _received.Reader.ReadAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ProbeAssertionException($"{Path}: no message within {deadline}.");
        }
        if (!predicate(message))
            throw new ProbeAssertionException($"{Path}: message {message} does not match the expectation.");
        return message;
    }

    /// <summary>
    /// Asserts that nothing arrives during <paramref name="duration"/>. On a <see cref="ManualTimeProvider"/>
    /// this is deterministic: it waits until the system is idle, advances the clock by the duration
    /// (firing due timers), waits until idle again, then checks. On a real clock it waits the duration.
    /// </summary>
    public async Task ExpectNoMsgAsync(TimeSpan duration, CancellationToken cancellationToken = default)
    {
        if (_system.Time is ManualTimeProvider manual)
        {
            await _system.WhenIdleAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
            manual.Advance(duration);
            await _system.WhenIdleAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await Task.Delay(duration, cancellationToken).ConfigureAwait(false);
        }
        if (_received.Reader.TryRead(out var message))
            throw new ProbeAssertionException($"{Path}: expected no message, got {message}.");
    }
}
