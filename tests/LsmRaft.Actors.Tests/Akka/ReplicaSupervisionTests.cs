using Akka.Actor;
using Akka.TestKit;
using LsmRaft.Actors.Replica;
using LsmRaft.Actors.Tests.Replica;
using LsmRaft.Raft;
using LsmRaft.Storage;
using LsmRaft.Storage.IO;

namespace LsmRaft.Actors.Tests.Akka;

/// <summary>
/// Supervision of a replica on Akka, under virtual time (Akka's TestScheduler, driven tick by tick): a failure
/// restarts it only after its backoff, messages sent meanwhile wait and are then served, and a replica that keeps
/// failing stops for good with the reason on its monitor. What the home-made kernel's supervision tests checked.
/// </summary>
public sealed class ReplicaSupervisionTests : IDisposable
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(10);
    private readonly IdleTracker _idle = new();
    private readonly global::Akka.TestKit.Xunit2.TestKit _kit;

    public ReplicaSupervisionTests()
    {
        _kit = new global::Akka.TestKit.Xunit2.TestKit(_idle.DispatcherHocon(ReplicaDispatcher.Id) + """

            akka.scheduler.implementation = "Akka.TestKit.TestScheduler, Akka.TestKit"
            akka.loglevel = ERROR
            akka.log-dead-letters = off
            """);
    }

    private TestScheduler Time => (TestScheduler)_kit.Sys.Scheduler;

    [Fact]
    public async Task A_replica_whose_log_write_fails_restarts_after_its_backoff_and_serves_the_requests_that_waited()
    {
        var log = new FailingLog(failures: 1);
        var monitor = new ReplicaMonitor { Backoff = new RestartBackoff { MinBackoff = TimeSpan.FromSeconds(1) } };
        var replica = StartReplica(log, monitor);

        await _idle.RunUntilAsync(Time, Tick, () => monitor.Backoff.RecentRestarts == 1, 500, "the failed write restarts the replica");
        log.Failures.Should().Be(1);
        var status = replica.RequestAsync<ReplicaStatus>(r => new ReplicaMessage.GetStatus(r), TimeSpan.FromSeconds(60));

        for (int i = 0; i < 90; i++)
        {
            Time.Advance(Tick);
            await _idle.WhenIdleAsync(TimeSpan.FromSeconds(60));
        }
        status.IsCompleted.Should().BeFalse("the new incarnation waits out its 1 s backoff; the request waits with it");

        await _idle.RunUntilAsync(Time, Tick, () => status.IsCompleted, 20, "the request is answered once the replica has started again");
        await _idle.RunUntilAsync(Time, Tick, () => monitor.Status is { Role: RaftRole.Leader }, 500, "the restarted replica leads its one-member group");
        monitor.Failure.Should().BeNull();
    }

    [Fact]
    public async Task A_replica_that_keeps_failing_stops_for_good_after_its_restart_limit_and_reports_why()
    {
        var log = new FailingLog(failures: int.MaxValue);
        var monitor = new ReplicaMonitor { Backoff = new RestartBackoff { MaxRestarts = 3, MinBackoff = TimeSpan.FromMilliseconds(10) } };
        var replica = StartReplica(log, monitor);
        var probe = _kit.CreateTestProbe();
        probe.Watch(replica);

        await _idle.RunUntilAsync(Time, Tick, () => monitor.Failure is not null, 2000, "the replica gives up");

        probe.ExpectTerminated(replica, TimeSpan.FromSeconds(30));
        log.Failures.Should().Be(4, "the first failure and one after each of the 3 restarts");
        monitor.Failure!.Message.Should().Contain("writing the Raft log failed");
    }

    [Fact]
    public void Restarts_older_than_the_window_do_not_count_toward_the_limit()
    {
        var backoff = new RestartBackoff { MaxRestarts = 2, Window = TimeSpan.FromMinutes(1) };
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

    private IActorRef StartReplica(IReplicaLog log, ReplicaMonitor monitor)
    {
        var fs = new MemoryFileSystem();
        fs.CreateDirectory("/replica");
        var members = new ConfState([1UL], []);
        var options = new ReplicaOptions
        {
            GroupId = 7,
            NodeId = 1,
            Directory = "/replica",
            InitialMembers = members,
            EngineOptions = new LsmOptions { FileSystem = fs, Sync = SyncMode.None, CompactionLimiter = new CompactionLimiter(1) },
            TickInterval = Tick,
            Seed = 7,
        };
        return _kit.Sys.ActorOf(ReplicaActor.Props(options, log, new InMemoryNetwork().TransportFor(1), monitor), "replica-7");
    }

    public void Dispose()
    {
        _kit.Shutdown();
        _idle.Forget();
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
