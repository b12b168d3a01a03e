using LsmRaft.Host.Peer;

namespace LsmRaft.Host.DataPlane;

/// <summary>Tuning of <see cref="PeerLink"/> (docs/configuration.md, "Data plane").</summary>
internal sealed record PeerLinkOptions(ulong NodeId)
{
    /// <summary>Bytes of items (as encoded) one <c>PeerBatch</c> carries at most; a flush with more sends several batches.</summary>
    public int MaxBatchBytes { get; init; } = 1024 * 1024;

    /// <summary>Items queued per destination before new Raft messages are dropped (Raft retransmits) and forwards refused.</summary>
    public int QueueCapacity { get; init; } = 16 * 1024;

    /// <summary>How often a peer without an association is probed (the first probe goes out when the peer is added).</summary>
    public TimeSpan ProbeInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Every node this node has admitted, kept in DATA_DIR: a peer is recorded on its first batch, before its messages are
    /// delivered. The node passes the instance its peer port admits into (one per DATA_DIR); null: not kept.
    /// </summary>
    public SeenPeers? Seen { get; init; }

    /// <summary>Throws naming the setting when the options cannot work with the remoting frame size in force.</summary>
    public void Validate(long maximumFrameSize)
    {
        if (MaxBatchBytes < 1024)
            throw new ArgumentException($"PeerLink's batch cap ({MaxBatchBytes} bytes) must be at least 1 KiB.");
        if (QueueCapacity < 1)
            throw new ArgumentException($"PeerLink's queue capacity ({QueueCapacity}) must be at least 1.");
        if (ProbeInterval <= TimeSpan.Zero)
            throw new ArgumentException($"PeerLink's probe interval ({ProbeInterval}) must be positive.");
        // A batch holds whole items, so it may exceed the cap by its last item; the frame must leave room for that
        // and Akka's envelope (recipient path, manifest).
        if (maximumFrameSize < 2L * MaxBatchBytes)
            throw new ArgumentException(
                $"akka.remote.dot-netty.tcp.maximum-frame-size ({maximumFrameSize} bytes) must be at least twice PeerLink's batch cap ({MaxBatchBytes} bytes): hocon/cluster.conf sets 2MiB for the 1 MiB cap.");
    }
}
