using System.Collections.Concurrent;
using Akka.Actor;
using LsmRaft.Protocol.Cluster;
using LsmRaft.Raft;

namespace LsmRaft.Actors.Replica;

/// <summary>
/// Connects replicas living in one process (tests, benchmarks): messages go straight into the target
/// replica's mailbox. Nodes can be cut off (<see cref="Isolate"/>) to simulate a partition; a dropped
/// message is reported like an unreachable peer.
/// </summary>
internal sealed class InMemoryNetwork
{
    private readonly ConcurrentDictionary<(ulong Node, ulong Group), IActorRef> _replicas = new();
    private readonly ConcurrentDictionary<ulong, bool> _isolated = new();
    private long _snapshotChunks;

    /// <summary>Snapshot chunks delivered so far (tests check that a catch-up really went through a snapshot).</summary>
    public long SnapshotChunksDelivered => Interlocked.Read(ref _snapshotChunks);

    public void Register(ulong nodeId, ulong groupId, IActorRef replica) => _replicas[(nodeId, groupId)] = replica;

    public void Unregister(ulong nodeId, ulong groupId) => _replicas.TryRemove((nodeId, groupId), out _);

    /// <summary>Drops all traffic to and from <paramref name="nodeId"/> until <see cref="Heal"/>.</summary>
    public void Isolate(ulong nodeId) => _isolated[nodeId] = true;

    public void Heal(ulong nodeId) => _isolated.TryRemove(nodeId, out _);

    /// <summary>True while <paramref name="nodeId"/> is cut off (a test's node-liveness oracle).</summary>
    public bool IsIsolated(ulong nodeId) => _isolated.ContainsKey(nodeId);

    /// <summary>The transport a replica on <paramref name="nodeId"/> uses to reach the others.</summary>
    public IRaftTransport TransportFor(ulong nodeId) => new Transport(this, nodeId);

    private bool TryRoute(ulong from, ulong to, ulong groupId, out IActorRef target)
    {
        target = null!;
        to = ReplicaId.NodeOf(to); // a Raft id: its node is where the replica lives
        return !_isolated.ContainsKey(from) && !_isolated.ContainsKey(to) && _replicas.TryGetValue((to, groupId), out target!);
    }

    private sealed class Transport(InMemoryNetwork network, ulong nodeId) : IRaftTransport
    {
        public bool Send(ulong groupId, Message message)
        {
            if (!network.TryRoute(nodeId, message.To, groupId, out var target))
                return false;
            target.Tell(new ReplicaMessage.Step(message), ActorRefs.NoSender);
            return true;
        }

        public async Task<SnapshotChunkAck> SendSnapshotChunkAsync(SnapshotChunkData chunk, CancellationToken cancellationToken)
        {
            if (!network.TryRoute(nodeId, chunk.To, chunk.GroupId, out var target))
                return new SnapshotChunkAck(false, 0, false, $"node {chunk.To} is unreachable");
            Interlocked.Increment(ref network._snapshotChunks);
            return await target.RequestAsync<SnapshotChunkAck>(r => new ReplicaMessage.SnapshotChunk(chunk, r), TimeSpan.FromSeconds(30), cancellationToken).ConfigureAwait(false);
        }
    }
}
