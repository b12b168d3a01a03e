using System.Collections.Concurrent;
using Akka.Configuration;
using Akka.Dispatch;
using Akka.TestKit;

namespace LsmRaft.Actors.Tests.Akka;

/// <summary>
/// Tells a test when an actor system has nothing left to do: no mailbox run queued or running on a tracked
/// dispatcher, and no tracked I/O (see <see cref="TrackedReplicaLog"/>) whose completion is still to be told.
/// With Akka's TestScheduler nothing else happens until the test advances virtual time, so "advance one tick,
/// then wait until idle" drives replicas deterministically, as the home-made kernel's WhenIdleAsync did.
/// </summary>
/// <remarks>
/// A mailbox becomes busy inside <c>Tell</c> (the dispatcher hands it to the executor before Tell returns), and
/// tracked I/O ends only after its completion was told (synchronous continuations), so no idle moment lies in
/// between. Dispatchers find their tracker by the id in their HOCON (<see cref="DispatcherHocon"/>).
/// </remarks>
internal sealed class IdleTracker
{
    private static readonly ConcurrentDictionary<string, IdleTracker> Trackers = new();
    private readonly object _gate = new();
    private TaskCompletionSource? _idle;
    private long _busy;

    public IdleTracker()
    {
        Trackers[Id] = this;
    }

    public string Id { get; } = Guid.NewGuid().ToString("N");

    /// <summary>
    /// HOCON for a dispatcher <paramref name="path"/> whose work this tracker counts, and for Akka's default and
    /// internal dispatchers too: a top-level actor is created by its guardian on those, before its own mailbox runs.
    /// </summary>
    public string DispatcherHocon(string path) => $$"""
        {{path}} {
          type = Dispatcher
          throughput = 100
        }
        {{path}}.executor = "{{typeof(IdleTrackingExecutorConfigurator).AssemblyQualifiedName}}"
        {{path}}.idle-tracker = "{{Id}}"
        akka.actor.default-dispatcher.executor = "{{typeof(IdleTrackingExecutorConfigurator).AssemblyQualifiedName}}"
        akka.actor.default-dispatcher.idle-tracker = "{{Id}}"
        akka.actor.internal-dispatcher.executor = "{{typeof(IdleTrackingExecutorConfigurator).AssemblyQualifiedName}}"
        akka.actor.internal-dispatcher.idle-tracker = "{{Id}}"
        """;

    public void Begin() => Interlocked.Increment(ref _busy);

    public void End()
    {
        if (Interlocked.Decrement(ref _busy) != 0)
            return;
        TaskCompletionSource? idle;
        lock (_gate)
        {
            idle = _idle;
            _idle = null;
        }
        idle?.TrySetResult();
    }

    /// <summary>Completes when nothing tracked is queued or running; throws after <paramref name="timeout"/> (a stuck actor).</summary>
    public async Task WhenIdleAsync(TimeSpan timeout)
    {
        Task wait;
        lock (_gate)
        {
            if (Interlocked.Read(ref _busy) == 0)
                return;
            _idle ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            wait = _idle.Task;
        }
        await wait.WaitAsync(timeout);
    }

    /// <summary>Advances <paramref name="time"/> one <paramref name="tick"/> at a time, waiting for idle after each, until <paramref name="done"/> holds; fails after <paramref name="maxTicks"/>.</summary>
    public async Task RunUntilAsync(TestScheduler time, TimeSpan tick, Func<bool> done, int maxTicks, string what)
    {
        for (int i = 0; i <= maxTicks; i++)
        {
            await WhenIdleAsync(TimeSpan.FromSeconds(60));
            if (done())
                return;
            time.Advance(tick);
        }
        throw new TimeoutException($"'{what}' did not happen within {maxTicks} ticks.");
    }

    public void Forget() => Trackers.TryRemove(Id, out _);

    internal static IdleTracker Find(string id) =>
        Trackers.TryGetValue(id, out var tracker) ? tracker : throw new InvalidOperationException($"No idle tracker {id}: it was forgotten or never created.");
}

/// <summary>The executor of a tracked dispatcher: the .NET thread pool, counting every mailbox run.</summary>
internal sealed class IdleTrackingExecutorConfigurator(Config config, IDispatcherPrerequisites prerequisites) : ExecutorServiceConfigurator(config, prerequisites)
{
    public override ExecutorService Produce(string id) => new Executor(id, IdleTracker.Find(Config.GetString("idle-tracker")));

    private sealed class Executor(string id, IdleTracker tracker) : ExecutorService(id)
    {
        public override void Execute(IRunnable run)
        {
            tracker.Begin();
            ThreadPool.UnsafeQueueUserWorkItem(static state =>
            {
                var (run, tracker) = state;
                try
                {
                    run.Run();
                }
                finally
                {
                    tracker.End();
                }
            }, (run, tracker), preferLocal: false);
        }

        public override void Shutdown()
        {
        }
    }
}
