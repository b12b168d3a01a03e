namespace LsmRaft.Actors.Kernel;

/// <summary>An address of an actor, whatever its message type.</summary>
internal abstract class ActorRef
{
    /// <summary>Slash-separated path from the root, e.g. <c>/user/node/replica-7</c>.</summary>
    public abstract string Path { get; }

    public override string ToString() => Path;
}

/// <summary>
/// Sends messages of type <typeparamref name="T"/> to one actor.
/// Overflow policy: <see cref="Tell"/> never blocks; when the bounded mailbox is full (or the actor
/// has stopped) it returns false and the message becomes a dead letter (counted by
/// <see cref="ActorSystem.DeadLetterCount"/>). Callers that want backpressure use <see cref="TellAsync"/>.
/// </summary>
internal abstract class ActorRef<T> : ActorRef
{
    /// <summary>Clock for <see cref="AskAsync{TReply}"/> timeouts.</summary>
    protected abstract TimeProvider Time { get; }

    /// <summary>Enqueues without waiting; false (and a dead letter) when the mailbox is full or the actor stopped.</summary>
    public abstract bool Tell(T message);

    /// <summary>Waits for mailbox space; false (and a dead letter) when the actor has stopped.</summary>
    public abstract ValueTask<bool> TellAsync(T message, CancellationToken cancellationToken = default);

    /// <summary>
    /// Sends the message built by <paramref name="factory"/> around a fresh reply handle and waits for the reply.
    /// Throws <see cref="TimeoutException"/> when no reply arrives within <paramref name="timeout"/> (measured
    /// on the system clock, waiting for mailbox space included) and <see cref="OperationCanceledException"/>
    /// when <paramref name="cancellationToken"/> fires first.
    /// </summary>
    public async Task<TReply> AskAsync<TReply>(Func<ReplyTo<TReply>, T> factory, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var reply = new ReplyTo<TReply>();
        using var timeoutSource = new CancellationTokenSource(timeout, Time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeoutSource.Token);
        try
        {
            if (!await TellAsync(factory(reply), linked.Token).ConfigureAwait(false))
                throw new InvalidOperationException($"Ask to {Path} failed: the actor has stopped.");
            return await reply.Task.WaitAsync(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timeoutSource.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"Ask to {Path} got no reply within {timeout}.");
        }
    }
}

/// <summary>One-shot reply handle carried inside an Ask message. Later replies are ignored.</summary>
internal sealed class ReplyTo<TReply>
{
    private readonly TaskCompletionSource<TReply> _source = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal Task<TReply> Task => _source.Task;

    /// <summary>False when a reply was already given or the asker gave up.</summary>
    public bool Reply(TReply value) => _source.TrySetResult(value);

    public bool Fail(Exception error) => _source.TrySetException(error);
}

internal interface ILocalRef
{
    ActorCell Cell { get; }
}

internal sealed class LocalActorRef<T>(ActorCell<T> cell) : ActorRef<T>, ILocalRef
{
    public override string Path => cell.Path;

    ActorCell ILocalRef.Cell => cell;

    protected override TimeProvider Time => cell.System.Time;

    public override bool Tell(T message) => cell.TryEnqueue(message);

    public override ValueTask<bool> TellAsync(T message, CancellationToken cancellationToken = default) =>
        cell.EnqueueAsync(message, cancellationToken);
}
