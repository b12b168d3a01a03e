using System.Collections.Concurrent;
using LsmRaft.Actors.Kernel;
using LsmRaft.Actors.Kernel.Testing;
using LsmRaft.Raft;
using LsmRaft.Actors.Replica;
using LsmRaft.Storage;
using LsmRaft.Storage.IO;

namespace LsmRaft.Actors.Tests.Replica;

/// <summary>
/// A replica whose storage fails: restarted with backoff while the failure may pass, given up at once when it cannot
/// (refused options, corruption) or after its restarts, and each outcome told to the host's health observer once.
/// </summary>
public sealed class ReplicaSupervisionTests
{
    private static readonly RestartPolicy ThreeRestarts = new() { MaxRestarts = 3, MinBackoff = TimeSpan.FromMilliseconds(10), MaxBackoff = TimeSpan.FromMilliseconds(40) };

    [Fact]
    public async Task Storage_that_keeps_failing_is_restarted_with_backoff_then_the_replica_stops_and_is_reported_once()
    {
        await using var replica = new SingleReplica(ThreeRestarts);
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
        await using var replica = new SingleReplica(ThreeRestarts, new LsmOptions { BloomHashFunctions = 31 });
        replica.Start();
        await replica.RunUntilAsync(() => replica.Terminated, "the replica actor terminates");
        replica.Observer.Failures.Should().ContainSingle().Which.Should().BeOfType<InvalidOptionException>();
        replica.Observer.Stopped.Should().ContainSingle().Which.Message.Should().Contain("BloomHashFunctions");
    }

    [Fact]
    public async Task A_failure_that_passes_is_retried_and_the_storage_opens_without_the_replica_stopping()
    {
        await using var replica = new SingleReplica(ThreeRestarts);
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

    /// <summary>One single-voter replica on a manual clock and an in-memory file system.</summary>
    private sealed class SingleReplica(RestartPolicy restarts, LsmOptions? engine = null) : IAsyncDisposable
    {
        private readonly ManualTimeProvider _time = new();
        private ActorSystem? _system;
        private ActorRef<ReplicaMessage>? _ref;

        public MemoryFileSystem Fs { get; } = new();

        public RecordingObserver Observer { get; } = new();

        public bool Terminated => _ref is not null && !_ref.Tell(ReplicaMessage.Tick.Instance);

        public void Start()
        {
            _system = new ActorSystem(new ActorSystemOptions { Time = _time });
            Fs.CreateDirectory("/node1");
            var members = new ConfState([1], []);
            var options = new ReplicaOptions
            {
                GroupId = 1,
                NodeId = 1,
                Directory = "/node1",
                InitialMembers = members,
                EngineOptions = (engine ?? new LsmOptions()) with { FileSystem = Fs, Sync = SyncMode.None, CompactionLimiter = new CompactionLimiter(1) },
                TickInterval = TimeSpan.FromMilliseconds(10),
                HealthObserver = Observer,
                StorageRestarts = restarts,
            };
            var log = new MemoryReplicaLog(new MemoryRaftStorage(members));
            var transport = new InMemoryNetwork().TransportFor(1);
            _ref = _system.Spawn<ReplicaMessage>("replica-1", () => new ReplicaActor(options, log, transport));
        }

        /// <summary>Advances the manual clock 5 ms at a time (restart backoffs are on it) until <paramref name="done"/>; at most 2,000 steps.</summary>
        public async Task RunUntilAsync(Func<bool> done, string what)
        {
            for (int i = 0; i < 2000; i++)
            {
                await _system!.WhenIdleAsync();
                if (done())
                    return;
                _time.Advance(TimeSpan.FromMilliseconds(5));
            }
            throw new TimeoutException($"'{what}' did not happen within 2,000 steps of 5 ms.");
        }

        public async ValueTask DisposeAsync()
        {
            if (_system is not null)
                await _system.DisposeAsync();
        }
    }
}
