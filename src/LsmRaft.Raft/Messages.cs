namespace LsmRaft.Raft;

/// <summary>
/// The kinds of message the core consumes and produces. Local kinds (<see cref="Hup"/>, <see cref="Beat"/>,
/// <see cref="CheckQuorum"/>, <see cref="SnapStatus"/>, <see cref="Unreachable"/>) never cross the network;
/// <see cref="RaftNode"/> creates them from its API calls and ticks.
/// </summary>
public enum MessageType : byte
{
    /// <summary>Local: start an election (or a pre-vote round).</summary>
    Hup,

    /// <summary>Local: the leader's heartbeat timer fired.</summary>
    Beat,

    /// <summary>Local: the leader's election timer fired; check that a quorum was recently active.</summary>
    CheckQuorum,

    /// <summary>Leader to follower: entries after (<see cref="Message.LogTerm"/>, <see cref="Message.Index"/>).</summary>
    App,

    /// <summary>Follower to leader: the append was accepted up to <see cref="Message.Index"/>, or rejected with a hint.</summary>
    AppResp,

    /// <summary>Candidate to all: vote for me in <see cref="Message.Term"/>.</summary>
    Vote,

    /// <summary>Answer to <see cref="Vote"/>.</summary>
    VoteResp,

    /// <summary>Pre-candidate to all: would you vote for me at <see cref="Message.Term"/> (one above mine)?</summary>
    PreVote,

    /// <summary>Answer to <see cref="PreVote"/>.</summary>
    PreVoteResp,

    /// <summary>Leader to follower: install this snapshot, the entries it needs are compacted.</summary>
    Snap,

    /// <summary>Leader to follower: I am alive; commit up to <see cref="Message.Commit"/>. Carries a read-index context.</summary>
    Heartbeat,

    /// <summary>Answer to <see cref="Heartbeat"/>; echoes its context and <see cref="Message.Index"/>.</summary>
    HeartbeatResp,

    /// <summary>Local: the shell reports the outcome of sending a snapshot (<see cref="Message.Reject"/> = failed).</summary>
    SnapStatus,

    /// <summary>Local: the shell reports that a peer could not be reached.</summary>
    Unreachable,

    /// <summary>Follower to leader: please transfer leadership to <see cref="Message.From"/>.</summary>
    TransferLeader,

    /// <summary>Leader to transferee: campaign now, ignoring your election timer and leases.</summary>
    TimeoutNow,

    /// <summary>Follower to leader: confirm leadership and tell me the commit index for this read context.</summary>
    ReadIndex,

    /// <summary>Answer to <see cref="ReadIndex"/>: <see cref="Message.Index"/> is the read index.</summary>
    ReadIndexResp,
}

/// <summary>
/// One Raft message. Immutable: the core never changes a message after it is put into a <see cref="Ready"/>,
/// so the shell may hand the same instance to a transport or a simulator queue.
/// </summary>
/// <remarks>
/// Field use per type: <see cref="MessageType.App"/> carries the previous entry (<see cref="LogTerm"/>,
/// <see cref="Index"/>), <see cref="Entries"/> and the leader's <see cref="Commit"/>.
/// A rejected <see cref="MessageType.AppResp"/> carries the rejected <see cref="Index"/>, and the follower's
/// hint: <see cref="RejectHint"/> is the largest index whose term (<see cref="LogTerm"/>) is at most the
/// leader's term at the rejected index, so the leader can skip a whole conflicting term per round trip.
/// <see cref="MessageType.Heartbeat"/> carries the leader's tick counter in <see cref="Index"/> which
/// the response echoes; the leader uses it to date quorum acknowledgements for leases.
/// </remarks>
public sealed record Message
{
    public required MessageType Type { get; init; }

    public ulong From { get; init; }

    public ulong To { get; init; }

    /// <summary>Sender's term; 0 for local messages and forwarded requests (proposal-like, term-agnostic).</summary>
    public ulong Term { get; init; }

    public ulong LogTerm { get; init; }

    public ulong Index { get; init; }

    public IReadOnlyList<Entry> Entries { get; init; } = [];

    public ulong Commit { get; init; }

    public bool Reject { get; init; }

    public ulong RejectHint { get; init; }

    public RaftSnapshot? Snapshot { get; init; }

    /// <summary>Read-index request context, or <see cref="Raft.CampaignTransferContext"/> on forced votes.</summary>
    public byte[]? Context { get; init; }

    /// <summary>
    /// On a <see cref="MessageType.Heartbeat"/>: the leader's last heartbeat before it quiesces (the group is idle); a
    /// follower whose log ends at <see cref="Commit"/> in the leader's term stops its election timer and does not answer.
    /// See docs/raft.md, "Quiescence".
    /// </summary>
    public bool Quiesce { get; init; }

    /// <summary>True for responses a node sends after changing its persistent state.</summary>
    public bool IsResponse => Type is MessageType.AppResp or MessageType.VoteResp or MessageType.PreVoteResp
        or MessageType.HeartbeatResp or MessageType.ReadIndexResp;

    /// <summary>True for kinds that never leave the node.</summary>
    public bool IsLocal => Type is MessageType.Hup or MessageType.Beat or MessageType.CheckQuorum
        or MessageType.SnapStatus or MessageType.Unreachable;
}
