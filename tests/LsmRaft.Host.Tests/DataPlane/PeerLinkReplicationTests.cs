using System.Text;
using Akka.Actor;
using LsmRaft.Actors.Replica;
using LsmRaft.Host.DataPlane;
using LsmRaft.Host.Peer;
using LsmRaft.Protocol.Peer;
using LsmRaft.Raft;
using LsmRaft.Storage;
using LsmRaft.Storage.IO;
using Microsoft.Extensions.Logging.Abstractions;
using ChunkAck = LsmRaft.Actors.Replica.SnapshotChunkAck;
using LsmRaft.Host.Tests.Support;

namespace LsmRaft.Host.Tests.DataPlane;

/// <summary>
/// Three replicas of one group, each in its own actor system, replicating through <see cref="PeerLink"/> over
/// Akka.Remote on loopback (real time, messages checked for serializability). Their liveness oracle is the link's
/// association state, as on a node with the Akka data plane.
/// </summary>
public sealed class PeerLinkReplicationTests : IAsyncLifetime
{
    private static readonly ConfState Members = new([1, 2, 3], []);
    private readonly Dictionary<ulong, ReplicaNode> _nodes = new();

    /// <summary>One node: its actor system, link, replica of group 1 and the replica's status.</summary>
    private sealed record ReplicaNode(ActorSystem System, PeerLink Link, PeerTransport Snapshots, IActorRef Replica, ReplicaMonitor Monitor);

    public Task InitializeAsync()
    {
        foreach (ulong id in Members.Voters)
            _nodes[id] = Start(id);
        foreach (var (id, node) in _nodes)
            foreach (var (peer, other) in _nodes)
                node.Link.AddPeer(peer, other.Link.Address);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        foreach (var node in _nodes.Values)
        {
            await node.Link.DisposeAsync();
            await node.Snapshots.DisposeAsync();
            await node.System.Terminate();
        }
    }

    private static ReplicaNode Start(ulong id)
    {
        var system = RemoteSystems.Start();
        var fs = new MemoryFileSystem();
        fs.CreateDirectory("/");
        fs.CreateDirectory($"/node{id}");
        var inbox = new ReplicaInbox();
        var snapshots = new PeerTransport(new PeerOptions(id, "test", new byte[32], new Dictionary<ulong, PeerEndpoint>()), NullLogger<PeerTransport>.Instance);
        var link = new PeerLink(system, new PeerLinkOptions(id), inbox, snapshots, NullLogger.Instance);
        var options = new ReplicaOptions
        {
            GroupId = 1,
            NodeId = id,
            Directory = $"/node{id}",
            InitialMembers = Members,
            EngineOptions = new LsmOptions { FileSystem = fs, Sync = SyncMode.None, CompactionLimiter = new CompactionLimiter(1) },
            TickInterval = TimeSpan.FromMilliseconds(20),
            Seed = (int)id * 31,
            QuiesceAfterTicks = 3,
            IsNodeLive = peer => peer == id || link.IsConnected(peer),
        };
        var monitor = new ReplicaMonitor();
        var replica = system.ActorOf(ReplicaActor.Props(options, new MemoryReplicaLog(new MemoryRaftStorage(Members)), link, monitor), "replica-1");
        inbox.Replica = replica;
        return new ReplicaNode(system, link, snapshots, replica, monitor);
    }

    private async Task<ulong> LeaderAsync(Func<ulong, bool> among)
    {
        ulong leader = 0;
        await Poll.UntilAsync(() =>
        {
            leader = _nodes.Keys.Where(among).FirstOrDefault(id => _nodes[id].Monitor.Status is { Role: RaftRole.Leader });
            return leader != 0;
        }, "a leader is elected", TimeSpan.FromSeconds(30));
        return leader;
    }

    private async Task<ulong> PutAsync(ulong via, string key, string value)
    {
        var outcome = await _nodes[via].Replica.RequestAsync<ProposeOutcome>(
            r => new ReplicaMessage.Propose(KvCommand.Put(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(value)), r), TimeSpan.FromSeconds(20));
        return outcome.Should().BeOfType<ProposeOutcome.Committed>().Which.Index;
    }

    [Fact]
    public async Task Writes_replicate_through_the_link_and_a_lost_association_wakes_quiesced_followers()
    {
        ulong leader = await LeaderAsync(_ => true);
        ulong index = 0;
        for (int i = 0; i < 20; i++)
            index = await PutAsync(leader, $"k{i}", $"v{i}");
        await Poll.UntilAsync(() => _nodes.Values.All(n => n.Monitor.Status is { } s && s.Applied >= index), "every replica applied the writes");
        await Poll.UntilAsync(() => _nodes.Values.All(n => n.Monitor.Status is { Quiesced: true }), "the idle group quiesced");
        var (items, messages) = _nodes[leader].Link.SentTo(_nodes.Keys.First(id => id != leader));
        messages.Should().BePositive();
        items.Should().BeGreaterThanOrEqualTo(messages);

        await _nodes[leader].System.Terminate();

        // Quiesced followers never time out on their own: only the oracle (the association) can wake them.
        ulong next = await LeaderAsync(id => id != leader);
        next.Should().NotBe(leader);
        await PutAsync(next, "after", "failover");
    }

    /// <summary>Delivers what the link receives to this node's replica, as the node runtime does.</summary>
    private sealed class ReplicaInbox : IPeerDispatcher
    {
        public IActorRef Replica { get; set; } = ActorRefs.Nobody;

        public void DeliverRaft(ulong groupId, Message message) => Replica.Tell(new ReplicaMessage.Step(message));

        public Task<ChunkAck> HandleSnapshotChunkAsync(SnapshotChunkData chunk, CancellationToken cancellationToken) =>
            Replica.RequestAsync<ChunkAck>(r => new ReplicaMessage.SnapshotChunk(chunk, r), TimeSpan.FromSeconds(30), cancellationToken);

        public Task<ForwardResponse> HandleForwardAsync(ForwardRequest request, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("Replicas take no forwarded client operations in this test.");
    }
}
