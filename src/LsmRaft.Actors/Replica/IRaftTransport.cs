using LsmRaft.Raft;

namespace LsmRaft.Actors.Replica;

/// <summary>
/// Carries Raft traffic between nodes. <see cref="Send"/> never blocks and may lose messages (Raft
/// tolerates loss; implementations batch per destination). Snapshot chunks are request/response so a
/// transfer can resume where it stopped.
/// </summary>
internal interface IRaftTransport
{
    /// <summary>Queues <paramref name="message"/> for <see cref="Message.To"/>; false when it was dropped (unknown peer, queue full).</summary>
    bool Send(ulong groupId, Message message);

    /// <summary>Delivers one snapshot chunk to the follower's replica and returns its acknowledgement.</summary>
    Task<SnapshotChunkAck> SendSnapshotChunkAsync(SnapshotChunkData chunk, CancellationToken cancellationToken);
}
