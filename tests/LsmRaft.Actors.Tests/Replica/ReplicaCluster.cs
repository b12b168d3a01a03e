using System.Text;
using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit;
using LsmRaft.Actors.Log;
using LsmRaft.Actors.Tests.Akka;
using LsmRaft.Raft;
using LsmRaft.Actors.Replica;
using LsmRaft.Storage;
using LsmRaft.Storage.IO;

namespace LsmRaft.Actors.Tests.Replica;

/// <summary>
/// Replicas of one group in one process, as Akka actors: virtual time (Akka's <see cref="TestScheduler"/>: timers
/// fire only when the test ticks), the in-memory network, in-memory replica logs and engines on a
/// <see cref="MemoryFileSystem"/>. Progress is driven deterministically: advance one tick, then wait until no
/// mailbox has work and no log write is still to be told (<see cref="IdleTracker"/>).
/// </summary>
internal sealed class ReplicaCluster : IAsyncDisposable
{
    public static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(10);

    private readonly Dictionary<ulong, IReplicaLog> _logs = new();
    private readonly List<NodeLog> _nodeLogs = new();
    private readonly bool _durable;
    private readonly Dictionary<ulong, ReplicaMonitor> _monitors = new();
    private readonly IdleTracker _idle = new();
    private long _messagesSent;

    /// <param name="durableOn">When set, every replica keeps its Raft log in a <see cref="NodeLog"/> (fsync on) on this file system.</param>
    /// <param name="quiesceAfterTicks">ReplicaOptions.QuiesceAfterTicks of every replica (0: groups never quiesce).</param>
    public ReplicaCluster(int voters, ulong snapshotInterval = 10_000, MemoryFileSystem? durableOn = null, int quiesceAfterTicks = 3)
    {
        QuiesceAfterTicks = quiesceAfterTicks;
        System = ActorSystem.Create("replicas", ConfigurationFactory.ParseString(
            _idle.DispatcherHocon(ReplicaDispatcher.Id) + """

            akka.scheduler.implementation = "Akka.TestKit.TestScheduler, Akka.TestKit"
            akka.loglevel = WARNING
            akka.log-dead-letters = off
            """));
        Time = (TestScheduler)System.Scheduler;
        _durable = durableOn is not null;
        Fs = durableOn ?? new MemoryFileSystem();
        Fs.CreateDirectory("/");
        Members = new ConfState(Enumerable.Range(1, voters).Select(i => (ulong)i), []);
        SnapshotInterval = snapshotInterval;
        foreach (var id in Members.Voters)
            Start(id, Members);
    }

    public TestScheduler Time { get; }
    public ActorSystem System { get; }
    public MemoryFileSystem Fs { get; }
    public InMemoryNetwork Network { get; } = new();
    public ConfState Members { get; }
    public ulong SnapshotInterval { get; }
    public int QuiesceAfterTicks { get; }

    /// <summary>Raft messages handed to the network by any replica (delivered or dropped).</summary>
    public long MessagesSent => Interlocked.Read(ref _messagesSent);
    public Dictionary<ulong, IActorRef> Replicas { get; } = new();

    public void Start(ulong id, ConfState members)
    {
        string directory = $"/node{id}";
        Fs.CreateDirectory(directory);
        if (!_logs.TryGetValue(id, out var log))
        {
            if (_durable)
            {
                var nodeLog = NodeLog.Open(Fs, directory + "/raftlog", new NodeLogOptions());
                _nodeLogs.Add(nodeLog);
                log = new TrackedReplicaLog(new NodeLogReplicaLog(nodeLog, 1, Fs, directory, members), _idle);
            }
            else
            {
                log = new MemoryReplicaLog(new MemoryRaftStorage(members));
            }
            _logs[id] = log;
        }
        var options = new ReplicaOptions
        {
            GroupId = 1,
            NodeId = id,
            Directory = directory,
            InitialMembers = members,
            EngineOptions = new LsmOptions { FileSystem = Fs, Sync = SyncMode.None, CompactionLimiter = new CompactionLimiter(1) },
            TickInterval = Tick,
            SnapshotInterval = SnapshotInterval,
            SnapshotChunkBytes = 4096,
            Seed = (int)id * 31,
            QuiesceAfterTicks = QuiesceAfterTicks,
            // An isolated node looks dead to the others, and the others to it (like a lost peer connection).
            IsNodeLive = peer => !Network.IsIsolated(peer) && !Network.IsIsolated(id),
        };
        var monitor = _monitors[id] = new ReplicaMonitor();
        var replica = System.ActorOf(ReplicaActor.Props(options, log, new CountingTransport(Network.TransportFor(id), this), monitor), $"replica-{id}");
        Replicas[id] = replica;
        Network.Register(id, 1, replica);
    }

    public async Task StopAsync(ulong id)
    {
        Network.Unregister(id, 1);
        await System.StopAsync(Replicas[id]);
        Replicas.Remove(id);
        _monitors.Remove(id);
    }

    public ReplicaStatus? StatusOf(ulong id) => _monitors.TryGetValue(id, out var m) ? m.Status : null;

    /// <summary>Completes when every replica has handled everything it was sent (bounded: a stuck actor fails the test).</summary>
    public Task WhenIdleAsync() => _idle.WhenIdleAsync(TimeSpan.FromSeconds(60));

    /// <summary>Advances the clock one tick at a time until <paramref name="done"/> holds; fails after <paramref name="maxTicks"/>.</summary>
    public Task RunUntilAsync(Func<bool> done, int maxTicks, string what) => _idle.RunUntilAsync(Time, Tick, done, maxTicks, what);

    public async Task<ulong> WaitForLeaderAsync(int maxTicks = 500)
    {
        ulong leader = 0;
        await RunUntilAsync(() =>
        {
            leader = Replicas.Keys.FirstOrDefault(id => StatusOf(id) is { Role: RaftRole.Leader });
            return leader != 0;
        }, maxTicks, "a leader is elected");
        return leader;
    }

    /// <summary>Sends a request and ticks until it is answered.</summary>
    public async Task<T> AskAsync<T>(ulong id, Func<ReplyTo<T>, ReplicaMessage> build, int maxTicks = 500)
    {
        var task = Replicas[id].RequestAsync(build, TimeSpan.FromSeconds(60));
        await RunUntilAsync(() => task.IsCompleted, maxTicks, $"an answer from replica {id}");
        return await task;
    }

    public Task<ProposeOutcome> PutAsync(ulong id, string key, string value) =>
        AskAsync<ProposeOutcome>(id, r => new ReplicaMessage.Propose(KvCommand.Put(B(key), B(value)), r));

    public Task<ReadOutcome> ReadAsync(ulong id, string key, ReadMode mode = ReadMode.Linearizable) =>
        AskAsync<ReadOutcome>(id, r => new ReplicaMessage.Read(new ReadQuery.Point(B(key)), mode, r));

    public static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    private sealed class CountingTransport(IRaftTransport inner, ReplicaCluster cluster) : IRaftTransport
    {
        public bool Send(ulong groupId, Message message)
        {
            Interlocked.Increment(ref cluster._messagesSent);
            return inner.Send(groupId, message);
        }

        public Task<SnapshotChunkAck> SendSnapshotChunkAsync(SnapshotChunkData chunk, CancellationToken cancellationToken) =>
            inner.SendSnapshotChunkAsync(chunk, cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var replica in Replicas.Values)
            await System.StopAsync(replica);
        await System.Terminate();
        _idle.Forget();
        foreach (var log in _nodeLogs)
            await log.DisposeAsync();
    }
}
