using System.Text;
using LsmRaft.Actors.Kernel;
using LsmRaft.Actors.Kernel.Testing;
using LsmRaft.Actors.Log;
using LsmRaft.Raft;
using LsmRaft.Actors.Replica;
using LsmRaft.Storage;
using LsmRaft.Storage.IO;

namespace LsmRaft.Actors.Tests.Replica;

/// <summary>
/// Replicas of one group in one process: a manual clock (time moves only when the test ticks), the
/// in-memory network, in-memory replica logs and engines on a <see cref="MemoryFileSystem"/>.
/// Progress is driven deterministically: advance one tick, then wait until every mailbox is empty.
/// </summary>
internal sealed class ReplicaCluster : IAsyncDisposable
{
    public static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(10);

    private readonly Dictionary<ulong, IReplicaLog> _logs = new();
    private readonly List<NodeLog> _nodeLogs = new();
    private readonly bool _durable;
    // Written by actor factories on mailbox threads while the test thread reads: must be thread-safe.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<ulong, ReplicaActor?> _actors = new();
    private long _messagesSent;

    /// <param name="durableOn">When set, every replica keeps its Raft log in a <see cref="NodeLog"/> (fsync on) on this file system.</param>
    /// <param name="quiesceAfterTicks">ReplicaOptions.QuiesceAfterTicks of every replica (0: groups never quiesce).</param>
    public ReplicaCluster(int voters, ulong snapshotInterval = 10_000, MemoryFileSystem? durableOn = null, int quiesceAfterTicks = 3)
    {
        QuiesceAfterTicks = quiesceAfterTicks;
        Time = new ManualTimeProvider();
        System = new ActorSystem(new ActorSystemOptions { Time = Time });
        _durable = durableOn is not null;
        Fs = durableOn ?? new MemoryFileSystem();
        Fs.CreateDirectory("/");
        Members = new ConfState(Enumerable.Range(1, voters).Select(i => (ulong)i), []);
        SnapshotInterval = snapshotInterval;
        foreach (var id in Members.Voters)
            Start(id, Members);
    }

    public ManualTimeProvider Time { get; }
    public ActorSystem System { get; }
    public MemoryFileSystem Fs { get; }
    public InMemoryNetwork Network { get; } = new();
    public ConfState Members { get; }
    public ulong SnapshotInterval { get; }
    public int QuiesceAfterTicks { get; }

    /// <summary>Raft messages handed to the network by any replica (delivered or dropped).</summary>
    public long MessagesSent => Interlocked.Read(ref _messagesSent);
    public Dictionary<ulong, ActorRef<ReplicaMessage>> Replicas { get; } = new();

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
                log = new NodeLogReplicaLog(nodeLog, 1, Fs, directory, members);
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
        var replica = System.Spawn<ReplicaMessage>($"replica-{id}", () =>
        {
            var actor = new ReplicaActor(options, log, new CountingTransport(Network.TransportFor(id), this));
            _actors[id] = actor;
            return actor;
        });
        Replicas[id] = replica;
        Network.Register(id, 1, replica);
    }

    public async Task StopAsync(ulong id)
    {
        Network.Unregister(id, 1);
        await System.StopAsync(Replicas[id]);
        Replicas.Remove(id);
        _actors.TryRemove(id, out _);
    }

    public ReplicaStatus? StatusOf(ulong id) => _actors.TryGetValue(id, out var a) ? a?.Status : null;

    /// <summary>Advances the clock one tick at a time until <paramref name="done"/> holds; fails after <paramref name="maxTicks"/>.</summary>
    public async Task RunUntilAsync(Func<bool> done, int maxTicks, string what)
    {
        for (int i = 0; i <= maxTicks; i++)
        {
            await System.WhenIdleAsync();
            if (done())
                return;
            Time.Advance(Tick);
        }
        throw new TimeoutException($"'{what}' did not happen within {maxTicks} ticks.");
    }

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

    /// <summary>Sends an Ask and ticks until it is answered.</summary>
    public async Task<T> AskAsync<T>(ulong id, Func<ReplyTo<T>, ReplicaMessage> build, int maxTicks = 500)
    {
        var task = Replicas[id].AskAsync(build, TimeSpan.FromSeconds(60));
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
        await System.DisposeAsync();
        foreach (var log in _nodeLogs)
            await log.DisposeAsync();
    }
}
