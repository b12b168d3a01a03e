using Google.Protobuf;
using LsmRaft.Raft;
using LsmRaft.Actors.Replica;
using LsmRaft.Protocol.Peer;
using CoreEntry = LsmRaft.Raft.Entry;
using ChunkAck = LsmRaft.Actors.Replica.SnapshotChunkAck;

namespace LsmRaft.Host.Peer;

/// <summary>Translates Raft core messages and snapshot chunks to and from their protobuf wire form.</summary>
internal static class RaftWire
{
    public static RaftMessage ToWire(ulong groupId, Message m)
    {
        var wire = new RaftMessage
        {
            GroupId = groupId,
            Type = ToWire(m.Type),
            From = m.From,
            To = m.To,
            Term = m.Term,
            LogTerm = m.LogTerm,
            Index = m.Index,
            Commit = m.Commit,
            Reject = m.Reject,
            RejectHint = m.RejectHint,
        };
        foreach (var e in m.Entries)
            wire.Entries.Add(new LogEntry { Term = e.Term, Index = e.Index, Type = (LogEntryType)(int)e.Type, Data = ByteString.CopyFrom(e.Data) });
        if (m.Snapshot is { } snap)
            wire.Snapshot = ToWire(snap.Metadata);
        if (m.Context is { } ctx)
            wire.Context = ByteString.CopyFrom(ctx);
        wire.Quiesce = m.Quiesce;
        return wire;
    }

    /// <summary>
    /// A heartbeat or an accepted heartbeat response without context travels as a <see cref="HeartbeatEntry"/>
    /// (docs/peer-protocol.md, "Coalesced heartbeats"); read-index heartbeats and refusals keep the full form.
    /// </summary>
    public static bool IsCoalescable(Message m) =>
        m.Type is MessageType.Heartbeat or MessageType.HeartbeatResp && m.Context is not { Length: > 0 } && !m.Reject
        && m.Entries.Count == 0 && m.LogTerm == 0 && m.RejectHint == 0 && m.Snapshot is null
        && (m.Type == MessageType.Heartbeat || (m.Commit == 0 && !m.Quiesce));

    /// <summary>The compact form of a message <see cref="IsCoalescable"/> accepted.</summary>
    public static HeartbeatEntry ToHeartbeat(ulong groupId, Message m) => new()
    {
        GroupId = groupId,
        From = m.From,
        To = m.To,
        Term = m.Term,
        Commit = m.Commit,
        Tick = m.Index,
        Quiesce = m.Quiesce,
    };

    /// <summary>Expands a coalesced heartbeat (or, with <paramref name="response"/>, a heartbeat response) into its Raft message.</summary>
    public static (ulong GroupId, Message Message) FromHeartbeat(HeartbeatEntry w, bool response) =>
        (w.GroupId, new Message
        {
            Type = response ? MessageType.HeartbeatResp : MessageType.Heartbeat,
            From = w.From,
            To = w.To,
            Term = w.Term,
            Commit = response ? 0 : w.Commit,
            Index = w.Tick,
            Quiesce = !response && w.Quiesce,
        });

    public static (ulong GroupId, Message Message) FromWire(RaftMessage w)
    {
        var entries = new CoreEntry[w.Entries.Count];
        for (int i = 0; i < entries.Length; i++)
        {
            var e = w.Entries[i];
            entries[i] = new CoreEntry(e.Term, e.Index, (EntryType)(int)e.Type, e.Data.ToByteArray());
        }
        var message = new Message
        {
            Type = FromWire(w.Type),
            From = w.From,
            To = w.To,
            Term = w.Term,
            LogTerm = w.LogTerm,
            Index = w.Index,
            Entries = entries,
            Commit = w.Commit,
            Reject = w.Reject,
            RejectHint = w.RejectHint,
            Snapshot = w.Snapshot is null ? null : FromWire(w.Snapshot),
            Context = w.Context.IsEmpty ? null : w.Context.ToByteArray(),
            Quiesce = w.Quiesce,
        };
        return (w.GroupId, message);
    }

    public static SnapshotMeta ToWire(SnapshotMetadata meta)
    {
        var wire = new SnapshotMeta { Index = meta.Index, Term = meta.Term };
        wire.Voters.AddRange(meta.ConfState.Voters);
        wire.Learners.AddRange(meta.ConfState.Learners);
        return wire;
    }

    public static RaftSnapshot FromWire(SnapshotMeta w) =>
        new(new SnapshotMetadata(w.Index, w.Term, new ConfState(w.Voters, w.Learners)), SnapshotFiles.EncodeData(w.Index));

    public static SnapshotChunk ToWire(SnapshotChunkData c, ulong requestId) => new()
    {
        GroupId = c.GroupId,
        From = c.From,
        To = c.To,
        Snapshot = ToWire(c.Snapshot.Metadata),
        FileName = c.FileName,
        Offset = (ulong)c.Offset,
        Data = ByteString.CopyFrom(c.Data),
        Last = c.LastOfFile,
        LastOfSnapshot = c.LastOfSnapshot,
        Term = c.Term,
        RequestId = requestId,
    };

    public static SnapshotChunkData FromWire(SnapshotChunk w) =>
        new(w.GroupId, w.From, w.To, FromWire(w.Snapshot), w.FileName, (long)w.Offset, w.Data.ToByteArray(), w.Last, w.LastOfSnapshot, w.Term);

    public static ChunkAck FromWire(Protocol.Peer.SnapshotChunkAck w) =>
        new(w.Status is SnapshotChunkStatus.Accepted or SnapshotChunkStatus.Resume or SnapshotChunkStatus.Complete,
            w.NextOffset > long.MaxValue ? long.MaxValue : (long)w.NextOffset,
            w.Status == SnapshotChunkStatus.Complete,
            string.IsNullOrEmpty(w.Reason) ? null : w.Reason);

    public static Protocol.Peer.SnapshotChunkAck ToWire(SnapshotChunk request, ChunkAck ack) => new()
    {
        GroupId = request.GroupId,
        From = request.To,
        To = request.From,
        SnapshotIndex = request.Snapshot?.Index ?? 0,
        SnapshotTerm = request.Snapshot?.Term ?? 0,
        FileName = request.FileName,
        NextOffset = ack.NextOffset < 0 ? 0 : (ulong)ack.NextOffset,
        Status = !ack.Accepted ? SnapshotChunkStatus.Rejected : ack.Complete ? SnapshotChunkStatus.Complete : SnapshotChunkStatus.Accepted,
        Reason = ack.Reason ?? "",
        RequestId = request.RequestId,
    };

    private static RaftMessageType ToWire(MessageType type) => type switch
    {
        MessageType.App => RaftMessageType.MsgApp,
        MessageType.AppResp => RaftMessageType.MsgAppResp,
        MessageType.Vote => RaftMessageType.MsgVote,
        MessageType.VoteResp => RaftMessageType.MsgVoteResp,
        MessageType.PreVote => RaftMessageType.MsgPreVote,
        MessageType.PreVoteResp => RaftMessageType.MsgPreVoteResp,
        MessageType.Snap => RaftMessageType.MsgSnap,
        MessageType.Heartbeat => RaftMessageType.MsgHeartbeat,
        MessageType.HeartbeatResp => RaftMessageType.MsgHeartbeatResp,
        MessageType.TimeoutNow => RaftMessageType.MsgTimeoutNow,
        MessageType.ReadIndex => RaftMessageType.MsgReadIndex,
        MessageType.ReadIndexResp => RaftMessageType.MsgReadIndexResp,
        MessageType.TransferLeader => RaftMessageType.MsgTransferLeader,
        _ => throw new ArgumentException($"Message type {type} never leaves a node."),
    };

    private static MessageType FromWire(RaftMessageType type) => type switch
    {
        RaftMessageType.MsgApp => MessageType.App,
        RaftMessageType.MsgAppResp => MessageType.AppResp,
        RaftMessageType.MsgVote => MessageType.Vote,
        RaftMessageType.MsgVoteResp => MessageType.VoteResp,
        RaftMessageType.MsgPreVote => MessageType.PreVote,
        RaftMessageType.MsgPreVoteResp => MessageType.PreVoteResp,
        RaftMessageType.MsgSnap => MessageType.Snap,
        RaftMessageType.MsgHeartbeat => MessageType.Heartbeat,
        RaftMessageType.MsgHeartbeatResp => MessageType.HeartbeatResp,
        RaftMessageType.MsgTimeoutNow => MessageType.TimeoutNow,
        RaftMessageType.MsgReadIndex => MessageType.ReadIndex,
        RaftMessageType.MsgReadIndexResp => MessageType.ReadIndexResp,
        RaftMessageType.MsgTransferLeader => MessageType.TransferLeader,
        _ => throw new InvalidDataException($"Raft message type {type} is not accepted from a peer."),
    };
}
