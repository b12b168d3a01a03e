using System.Collections.Concurrent;
using LsmRaft.Host.Peer;
using LsmRaft.Protocol.Peer;
using ChunkAck = LsmRaft.Actors.Replica.SnapshotChunkAck;

namespace LsmRaft.Host.Tests.DataPlane;

/// <summary>
/// The receiving node's side for link-level tests: records every Raft message delivered and answers a forwarded Put
/// with the key's length as its version (or holds the answer until <see cref="ReleaseForwards"/> when asked to).
/// </summary>
internal sealed class RecordingDispatcher(bool holdForwards = false) : IPeerDispatcher
{
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _delivered;

    public ConcurrentQueue<(ulong Group, LsmRaft.Raft.Message Message)> Raft { get; } = new();

    public int Delivered => Volatile.Read(ref _delivered);

    public int ForwardsSeen;

    /// <summary>Runs as each Raft message is delivered, before it is recorded (what the receiving node knows by then).</summary>
    public Action<LsmRaft.Raft.Message>? OnDeliver { get; init; }

    public void DeliverRaft(ulong groupId, LsmRaft.Raft.Message message)
    {
        OnDeliver?.Invoke(message);
        if (Raft.Count < 1000)
            Raft.Enqueue((groupId, message));
        Interlocked.Increment(ref _delivered);
    }

    public Task<ChunkAck> HandleSnapshotChunkAsync(LsmRaft.Actors.Replica.SnapshotChunkData chunk, CancellationToken cancellationToken) =>
        throw new InvalidOperationException("Snapshot chunks never travel over the Akka data plane.");

    public async Task<ForwardResponse> HandleForwardAsync(ForwardRequest request, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref ForwardsSeen);
        if (holdForwards)
            await _release.Task.WaitAsync(cancellationToken);
        return new ForwardResponse { RequestId = request.RequestId, Version = (ulong)request.Put.Key.Length };
    }

    public void ReleaseForwards() => _release.TrySetResult();
}
