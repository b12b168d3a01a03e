namespace LsmRaft.Actors.Kernel;

/// <summary>
/// Severity of a kernel log line. Same order and values as Microsoft.Extensions.Logging.LogLevel
/// (not in-box for plain net10.0), so a host can cast one to the other.
/// </summary>
internal enum ActorLogLevel
{
    Trace = 0,
    Debug = 1,
    Information = 2,
    Warning = 3,
    Error = 4,
    Critical = 5,
}

/// <summary>A message that could not be delivered: the mailbox was full, or the actor had stopped.</summary>
internal readonly record struct DeadLetter(string Recipient, object? Message, string Reason);

internal sealed class ActorSystemOptions
{
    /// <summary>Clock for Ask timeouts and restart backoff; tests pass a <see cref="Testing.ManualTimeProvider"/>.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Receives every kernel log line (failures carry the actor's path). Null discards them.</summary>
    public Action<ActorLogLevel, string>? Log { get; init; }

    /// <summary>Mailbox capacity of actors spawned without an explicit one.</summary>
    public int DefaultMailboxCapacity { get; init; } = 1024;

    /// <summary>How the /user guardian supervises top-level actors.</summary>
    public SupervisorStrategy GuardianStrategy { get; init; } = SupervisorStrategy.Default;
}

/// <summary>
/// Owns the /user guardian (the root of every actor it spawns), the clock and the log sink.
/// Several systems can live in one process; nothing here is static.
/// </summary>
internal sealed class ActorSystem : IAsyncDisposable
{
    private readonly Action<ActorLogLevel, string>? _log;
    private readonly ActorCell<object> _guardian;
    private readonly object _idleGate = new();
    private TaskCompletionSource? _idle;
    private long _busyCells;
    private long _deadLetters;

    public ActorSystem(ActorSystemOptions? options = null)
    {
        options ??= new ActorSystemOptions();
        if (options.DefaultMailboxCapacity < 1)
            throw new ArgumentOutOfRangeException(nameof(options), "DefaultMailboxCapacity must be at least 1.");
        Time = options.Time;
        _log = options.Log;
        DefaultMailboxCapacity = options.DefaultMailboxCapacity;
        var strategy = options.GuardianStrategy;
        _guardian = new ActorCell<object>(this, null, "user", "/user", () => new Guardian(strategy), 1);
        _guardian.Start();
    }

    public TimeProvider Time { get; }

    public int DefaultMailboxCapacity { get; }

    /// <summary>Messages dropped because a mailbox was full or its actor had stopped.</summary>
    public long DeadLetterCount => Interlocked.Read(ref _deadLetters);

    /// <summary>Raised on the thread that tried to deliver; keep handlers short.</summary>
    public event Action<DeadLetter>? DeadLetters;

    /// <summary>Starts a top-level actor at /user/<paramref name="name"/>.</summary>
    public ActorRef<T> Spawn<T>(string name, Func<Actor<T>> factory, int? mailboxCapacity = null) =>
        _guardian.SpawnChild(name, factory, mailboxCapacity);

    /// <summary>Stops an actor (children first) and completes when it has terminated.</summary>
    public Task StopAsync(ActorRef actor)
    {
        if (actor is not ILocalRef local)
            throw new ArgumentException($"{actor.Path} is not an actor of this system.", nameof(actor));
        local.Cell.PostSystem(SystemMessage.Stop.Instance);
        return local.Cell.Completion;
    }

    /// <summary>
    /// Completes when no actor is busy: none is running, none has a system message waiting, and none
    /// that is not suspended has mail. Scheduled restarts and mail parked in suspended actors do not
    /// count: with a manual clock, nothing else happens until the test advances it.
    /// </summary>
    public Task WhenIdleAsync()
    {
        lock (_idleGate)
        {
            if (Interlocked.Read(ref _busyCells) == 0)
                return Task.CompletedTask;
            _idle ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _idle.Task;
        }
    }

    public async ValueTask DisposeAsync()
    {
        _guardian.PostSystem(SystemMessage.Stop.Instance);
        await _guardian.Completion.ConfigureAwait(false);
    }

    internal void Log(ActorLogLevel level, string message) => _log?.Invoke(level, message);

    /// <summary>An actor cell became busy (see <see cref="WhenIdleAsync"/>).</summary>
    internal void BeginWork() => Interlocked.Increment(ref _busyCells);

    internal void EndWork()
    {
        if (Interlocked.Decrement(ref _busyCells) != 0)
            return;
        TaskCompletionSource? idle;
        lock (_idleGate)
        {
            idle = _idle;
            _idle = null;
        }
        idle?.TrySetResult();
    }

    internal void PublishDeadLetter(string recipient, object? message, string reason)
    {
        Interlocked.Increment(ref _deadLetters);
        Log(ActorLogLevel.Debug, $"Dead letter to {recipient} ({reason}): {message}");
        DeadLetters?.Invoke(new DeadLetter(recipient, message, reason));
    }

    /// <summary>The /user guardian: receives nothing, only supervises.</summary>
    private sealed class Guardian(SupervisorStrategy strategy) : Actor<object>
    {
        protected internal override SupervisorStrategy SupervisorStrategy => strategy;

        protected internal override ValueTask ReceiveAsync(object message, CancellationToken cancellationToken) => default;
    }
}
