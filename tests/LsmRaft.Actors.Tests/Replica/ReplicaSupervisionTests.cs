using System.Collections.Concurrent;
using Akka.Actor;
using Akka.TestKit;
using LsmRaft.Actors.Replica;
using LsmRaft.Actors.Tests.Akka;
using LsmRaft.Raft;
using LsmRaft.Storage;
using LsmRaft.Storage.IO;

namespace LsmRaft.Actors.Tests.Replica;

/// <summary>
/// Supervision of a replica on Akka, under virtual time (Akka's TestScheduler, driven step by step with an
/// <see cref="IdleTracker"/>): a failing storage is restarted with backoff while the failure may pass, given up at
/// once when it cannot (refused options, corruption) or after its restarts, each outcome told to the host's health
/// observer once; a replica whose log fails restarts only after its backoff, with the requests sent meanwhile
/// waiting, and stops for good past its limit; one sender's messages are handled in order.
/// </summary>
public sealed class ReplicaSupervisionTests
{
    private static readonly RestartPolicy ThreeRestarts = new() { MaxRestarts = 3, MinBackoff = TimeSpan.FromMilliseconds(10), MaxBackoff = TimeSpan.FromMilliseconds(40) };

    [Fact]
    public async Task Storage_that_keeps_failing_is_restarted_with_backoff_then_the_replica_stops_and_is_reported_once()
    {
        using var replica = new SingleReplica(ThreeRestarts);
        replica.Fs.BeforeWrite = path => { if (path.Contains("/engine")) throw new IOException($"disk refuses {path}"); };
        replica.Start();

        await replica.RunUntilAsync(() => replica.Observer.Stopped.Count > 0, "the replica is given up");
        replica.Observer.Failures.Should().HaveCount(ThreeRestarts.MaxRestarts + 1, "the first open and each restart failed");
        replica.Observer.Failures.Should().OnlyContain(e => e is IOException);
        replica.Observer.Stopped.Should().ContainSingle().Which.Should().BeOfType<IOException>();
        replica.Observer.Opened.Should().Be(0);
        await replica.RunUntilAsync(() => replica.Terminated, "the replica actor terminates");
        replica.Observer.Stopped.Should().ContainSingle("a stop is reported once, not on every later message");
    }

    [Fact]
    public async Task Options_the_engine_refuses_stop_the_replica_at_the_first_failure()
    {
        using var replica = new SingleReplica(ThreeRestarts, new LsmOptions { BloomHashFunctions = 31 });
        replica.Start();
        await replica.RunUntilAsync(() => replica.Terminated, "the replica actor terminates");
        replica.Observer.Failures.Should().ContainSingle().Which.Should().BeOfType<InvalidOptionException>();
        replica.Observer.Stopped.Should().ContainSingle().Which.Message.Should().Contain("BloomHashFunctions");
    }

    [Fact]
    public async Task A_failure_that_passes_is_retried_and_the_storage_opens_without_the_replica_stopping()
    {
        using var replica = new SingleReplica(ThreeRestarts);
        int refusals = 2;
        replica.Fs.BeforeWrite = path => { if (path.Contains("/engine") && Interlocked.Decrement(ref refusals) >= 0) throw new IOException("transient"); };
        replica.Start();
        await replica.RunUntilAsync(() => replica.Observer.Opened > 0, "the storage opens");
        replica.Observer.Failures.Should().HaveCount(2);
        replica.Observer.Stopped.Should().BeEmpty();
        replica.Terminated.Should().BeFalse();
    }

    private sealed class RecordingObserver : IReplicaHealthObserver
    {
        private int _opened;

        public int Opened => Volatile.Read(ref _opened);

        public ConcurrentQueue<Exception> Failures { get; } = new();

        public ConcurrentQueue<Exception> Stopped { get; } = new();

        public void StorageOpened(ulong groupId) => Interlocked.Increment(ref _opened);

        public void StorageFailed(ulong groupId, Exception cause) => Failures.Enqueue(cause);

        public void ReplicaStopped(ulong groupId, Exception cause) => Stopped.Enqueue(cause);
    }

    [Fact]
    public async Task A_replica_whose_log_write_fails_restarts_after_its_backoff_and_serves_the_requests_that_waited()
    {
        using var single = new SingleReplica(RestartPolicy.Default, log: new FailingLog(failures: 1), replicaRestarts: RestartPolicy.Default with { MinBackoff = TimeSpan.FromSeconds(1) });
        var (log, monitor) = (single.Log, single.Monitor);
        var replica = single.Start();

        await single.RunUntilAsync(() => monitor.Backoff.RecentRestarts == 1, "the failed write restarts the replica");
        log.Failures.Should().Be(1);
        var status = replica.RequestAsync<ReplicaStatus>(r => new ReplicaMessage.GetStatus(r), TimeSpan.FromSeconds(60));

        await single.AdvanceAsync(TimeSpan.FromMilliseconds(900));
        status.IsCompleted.Should().BeFalse("the new incarnation waits out its 1 s backoff; the request waits with it");

        await single.RunUntilAsync(() => status.IsCompleted, "the request is answered once the replica has started again");
        await single.RunUntilAsync(() => monitor.Status is { Role: RaftRole.Leader }, "the restarted replica leads its one-member group");
        monitor.Failure.Should().BeNull();
    }

    [Fact]
    public async Task A_replica_that_keeps_failing_stops_for_good_after_its_restart_limit_and_reports_why()
    {
        using var single = new SingleReplica(RestartPolicy.Default, log: new FailingLog(failures: int.MaxValue), replicaRestarts: ThreeRestarts);
        var (log, monitor) = (single.Log, single.Monitor);
        single.Start();

        await single.RunUntilAsync(() => single.Terminated, "the replica gives up");

        log.Failures.Should().Be(4, "the first failure and one after each of the 3 restarts");
        monitor.Failure!.Message.Should().Contain("writing the Raft log failed");
        single.Observer.Stopped.Should().ContainSingle().Which.Should().BeSameAs(monitor.Failure);
    }

    [Fact]
    public void Restarts_older_than_the_window_do_not_count_toward_the_limit()
    {
        var backoff = new RestartBackoff(new RestartPolicy { MaxRestarts = 2, Window = TimeSpan.FromMinutes(1) });
        var start = new DateTimeOffset(2026, 12, 4, 0, 0, 0, TimeSpan.Zero);

        backoff.TryRestart(start, out var first).Should().BeTrue();
        backoff.TryRestart(start.AddSeconds(1), out var second).Should().BeTrue();
        backoff.TryRestart(start.AddSeconds(2), out _).Should().BeFalse("a third restart within the minute exceeds the limit");
        backoff.TryRestart(start.AddSeconds(60.5), out var later).Should().BeTrue("the first restart has left the window");

        first.Should().Be(TimeSpan.FromMilliseconds(10));
        second.Should().Be(TimeSpan.FromMilliseconds(20), "backoff doubles with each restart in the window");
        later.Should().Be(TimeSpan.FromMilliseconds(20), "the restart at 1 s still counts");
    }

    [Fact]
    public async Task Proposals_from_one_sender_commit_in_the_order_they_were_sent()
    {
        await using var cluster = new ReplicaCluster(3);
        ulong leader = await cluster.WaitForLeaderAsync();
        var sent = Enumerable.Range(0, 50)
            .Select(i => cluster.Replicas[leader].RequestAsync<ProposeOutcome>(r => new ReplicaMessage.Propose(KvCommand.Put(ReplicaCluster.B($"k{i}"), ReplicaCluster.B("v")), r), TimeSpan.FromSeconds(60)))
            .ToList();
        await cluster.RunUntilAsync(() => sent.All(t => t.IsCompleted), 500, "every proposal is answered");

        var indexes = sent.Select(t => t.Result.Should().BeOfType<ProposeOutcome.Committed>().Subject.Index).ToList();
        indexes.Should().BeInAscendingOrder().And.OnlyHaveUniqueItems();
    }

    /// <summary>One single-voter replica in an Akka.TestKit system on virtual time and an in-memory file system.</summary>
    private sealed class SingleReplica : IDisposable
    {
        private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(5);
        private readonly IdleTracker _idle = new();
        private readonly global::Akka.TestKit.Xunit2.TestKit _kit;
        private readonly RestartPolicy _storageRestarts;
        private readonly LsmOptions? _engine;
        private readonly TestProbe _watcher;
        private IActorRef? _ref;
        private bool _terminated;

        public SingleReplica(RestartPolicy storageRestarts, LsmOptions? engine = null, FailingLog? log = null, RestartPolicy? replicaRestarts = null)
        {
            _storageRestarts = storageRestarts;
            _engine = engine;
            Log = log ?? new FailingLog(failures: 0);
            Monitor = new ReplicaMonitor { Backoff = new RestartBackoff(replicaRestarts ?? RestartPolicy.Default) };
            _kit = new global::Akka.TestKit.Xunit2.TestKit(_idle.DispatcherHocon(ReplicaDispatcher.Id) + """

                akka.scheduler.implementation = "Akka.TestKit.TestScheduler, Akka.TestKit"
                akka.loglevel = OFF
                akka.log-dead-letters = off
                """);
            _watcher = _kit.CreateTestProbe();
        }

        public MemoryFileSystem Fs { get; } = new();

        public RecordingObserver Observer { get; } = new();

        public FailingLog Log { get; }

        public ReplicaMonitor Monitor { get; }

        private TestScheduler Time => (TestScheduler)_kit.Sys.Scheduler;

        /// <summary>The replica actor has terminated (seen by a probe that watches it).</summary>
        public bool Terminated
        {
            get
            {
                if (!_terminated && _watcher.HasMessages)
                    _terminated = _watcher.ReceiveOne(TimeSpan.Zero) is Terminated;
                return _terminated;
            }
        }

        public IActorRef Start()
        {
            Fs.CreateDirectory("/node1");
            var members = new ConfState([1], []);
            var options = new ReplicaOptions
            {
                GroupId = 1,
                NodeId = 1,
                Directory = "/node1",
                InitialMembers = members,
                EngineOptions = (_engine ?? new LsmOptions()) with { FileSystem = Fs, Sync = SyncMode.None, CompactionLimiter = new CompactionLimiter(1) },
                TickInterval = TimeSpan.FromMilliseconds(10),
                HealthObserver = Observer,
                StorageRestarts = _storageRestarts,
                Seed = 1,
            };
            _ref = _kit.Sys.ActorOf(ReplicaActor.Props(options, Log, new InMemoryNetwork().TransportFor(1), Monitor), "replica-1");
            _watcher.Watch(_ref);
            return _ref;
        }

        /// <summary>Advances virtual time 5 ms at a time (restart backoffs and ticks are on it) until <paramref name="done"/>; at most 2,000 steps.</summary>
        public Task RunUntilAsync(Func<bool> done, string what) => _idle.RunUntilAsync(Time, Step, done, 2000, what);

        /// <summary>Advances virtual time by <paramref name="span"/>, 5 ms at a time, letting the actors finish after each step.</summary>
        public async Task AdvanceAsync(TimeSpan span)
        {
            for (var t = TimeSpan.Zero; t < span; t += Step)
            {
                Time.Advance(Step);
                await _idle.WhenIdleAsync(TimeSpan.FromSeconds(60));
            }
        }

        public void Dispose()
        {
            _kit.Shutdown();
            _idle.Forget();
        }
    }

    /// <summary>An in-memory log whose first <c>failures</c> writes fail with an I/O error.</summary>
    private sealed class FailingLog(int failures) : IReplicaLog
    {
        private readonly MemoryReplicaLog _inner = new(new MemoryRaftStorage(new ConfState([1UL], [])));
        private int _failures;

        public int Failures => Volatile.Read(ref _failures);

        public (HardState HardState, ConfState ConfState) InitialState() => _inner.InitialState();

        public IReadOnlyList<Entry> Entries(ulong lo, ulong hi, ulong maxBytes) => _inner.Entries(lo, hi, maxBytes);

        public ulong Term(ulong index) => _inner.Term(index);

        public ulong FirstIndex() => _inner.FirstIndex();

        public ulong LastIndex() => _inner.LastIndex();

        public RaftSnapshot Snapshot() => _inner.Snapshot();

        public ValueTask PersistAsync(IReadOnlyList<Entry> entries, HardState? hardState, bool mustSync, CancellationToken cancellationToken)
        {
            if (Interlocked.Increment(ref _failures) <= failures)
                return ValueTask.FromException(new IOException("simulated disk failure"));
            Interlocked.Decrement(ref _failures);
            return _inner.PersistAsync(entries, hardState, mustSync, cancellationToken);
        }

        public ValueTask InstallSnapshotAsync(RaftSnapshot snapshot, CancellationToken cancellationToken) => _inner.InstallSnapshotAsync(snapshot, cancellationToken);

        public ValueTask CompactAsync(RaftSnapshot snapshot, CancellationToken cancellationToken) => _inner.CompactAsync(snapshot, cancellationToken);
    }
}
