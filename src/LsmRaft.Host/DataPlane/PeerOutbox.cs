using System.Collections.Concurrent;
using Akka.Actor;
using Google.Protobuf;
using LsmRaft.Protocol.Peer;

namespace LsmRaft.Host.DataPlane;

/// <summary>
/// Everything this node has queued for one peer, and what it knows of that peer: whether it is associated, and the
/// forwarded operations waiting for its answers. Any thread enqueues; the first enqueue after a flush tells the
/// peer's <see cref="PeerOutboxWriter"/> to flush, and that flush drains everything queued by then into as few
/// <see cref="PeerBatch"/>es as the byte cap allows (usually one): one Akka message however many items.
/// </summary>
internal sealed class PeerOutbox(ulong nodeId, Address address, int capacity)
{
    private readonly ConcurrentQueue<OutItem> _queue = new();
    private readonly ConcurrentDictionary<ulong, TaskCompletionSource<ForwardResponse>> _pending = new();
    private int _count;
    private int _flushScheduled;
    private long _nextRequestId;
    private long _itemsSent;
    private long _batchesSent;
    private volatile bool _connected;
    private IActorRef _writer = ActorRefs.Nobody;

    public ulong NodeId => nodeId;

    /// <summary>The peer's actor system, as it names itself (its canonical remoting address).</summary>
    public Address Address => address;

    public bool Connected => _connected;

    /// <summary>Items handed to Akka.Remote so far (probes and their answers included).</summary>
    public long ItemsSent => Interlocked.Read(ref _itemsSent);

    /// <summary>Akka messages (<see cref="PeerBatch"/>es) handed to Akka.Remote so far.</summary>
    public long BatchesSent => Interlocked.Read(ref _batchesSent);

    /// <summary>Attaches the actor that flushes this outbox (once, before the first enqueue).</summary>
    public void AttachWriter(IActorRef writer) => _writer = writer;

    /// <summary>Queues one item; false when the queue is full (the item is dropped).</summary>
    public bool Enqueue(OutItem item)
    {
        if (Interlocked.Increment(ref _count) > capacity)
        {
            Interlocked.Decrement(ref _count);
            return false;
        }
        _queue.Enqueue(item);
        if (Interlocked.CompareExchange(ref _flushScheduled, 1, 0) == 0)
            _writer.Tell(PeerOutboxWriter.Flush.Instance, ActorRefs.NoSender);
        return true;
    }

    /// <summary>
    /// Drains the queue into batches of at most about <paramref name="maxBatchBytes"/> and hands each to <paramref name="send"/>.
    /// The flag is cleared first, so an item queued while this runs either joins this drain or schedules the next flush.
    /// </summary>
    public void Flush(ulong self, int maxBatchBytes, Action<PeerBatch> send)
    {
        Volatile.Write(ref _flushScheduled, 0);
        PeerBatch? batch = null;
        int bytes = 0, items = 0;
        while (_queue.TryDequeue(out var item))
        {
            Interlocked.Decrement(ref _count);
            batch ??= new PeerBatch { FromNode = self };
            bytes += item.AddTo(batch);
            items++;
            if (bytes >= maxBatchBytes)
            {
                Send(batch, items, send);
                batch = null;
                bytes = items = 0;
            }
        }
        if (batch is not null)
            Send(batch, items, send);
    }

    private void Send(PeerBatch batch, int items, Action<PeerBatch> send)
    {
        send(batch);
        Interlocked.Add(ref _itemsSent, items);
        Interlocked.Increment(ref _batchesSent);
    }

    /// <summary>Registers a forwarded operation awaiting its answer; returns its request id.</summary>
    public ulong AwaitResponse(TaskCompletionSource<ForwardResponse> response)
    {
        ulong id = (ulong)Interlocked.Increment(ref _nextRequestId);
        _pending[id] = response;
        return id;
    }

    public void ForgetRequest(ulong requestId) => _pending.TryRemove(requestId, out _);

    /// <summary>Completes the forwarded operation the answer belongs to (an answer nobody awaits any more is ignored).</summary>
    public void Complete(ForwardResponse response)
    {
        if (_pending.TryRemove(response.RequestId, out var waiter))
            waiter.TrySetResult(response);
    }

    /// <summary>Records the association's state; true when it changed. Losing it fails every forwarded operation in flight.</summary>
    public bool SetConnected(bool connected)
    {
        if (_connected == connected)
            return false;
        _connected = connected;
        if (!connected)
        {
            var error = new IOException($"The association with node {nodeId} at {address} was lost.");
            foreach (var (id, waiter) in _pending)
                if (_pending.TryRemove(id, out _))
                    waiter.TrySetException(error);
        }
        return true;
    }
}

/// <summary>One thing queued for a peer, with how it joins a <see cref="PeerBatch"/>.</summary>
internal readonly record struct OutItem(OutItem.Kinds Kind, IMessage? Payload)
{
    public enum Kinds { Raft, Heartbeat, HeartbeatResponse, ForwardRequest, ForwardResponse, Probe, ProbeAnswer }

    /// <summary>Adds the item to <paramref name="batch"/>; returns its encoded size.</summary>
    public int AddTo(PeerBatch batch)
    {
        switch (Kind)
        {
            case Kinds.Raft: batch.Messages.Add((RaftMessage)Payload!); break;
            case Kinds.Heartbeat: batch.Heartbeats.Add((HeartbeatEntry)Payload!); break;
            case Kinds.HeartbeatResponse: batch.HeartbeatResponses.Add((HeartbeatEntry)Payload!); break;
            case Kinds.ForwardRequest: batch.ForwardRequests.Add((ForwardRequest)Payload!); break;
            case Kinds.ForwardResponse: batch.ForwardResponses.Add((ForwardResponse)Payload!); break;
            case Kinds.Probe: batch.Probe = true; break;
            case Kinds.ProbeAnswer: break; // the batch itself is the answer
        }
        return (Payload?.CalculateSize() ?? 0) + 4;
    }
}
