namespace LsmRaft.Raft;

/// <summary>Why a request to the core was or was not accepted.</summary>
public enum RaftResultCode : byte
{
    /// <summary>Accepted. For proposals, <see cref="RaftResult.Index"/>/<see cref="RaftResult.Term"/> name the new entry.</summary>
    Ok,

    /// <summary>This node is not the leader; retry at <see cref="RaftResult.LeaderHint"/> (0 when unknown).</summary>
    NotLeader,

    /// <summary>The leader is handing leadership over and refuses new proposals until it finishes or aborts.</summary>
    LeaderTransferInProgress,

    /// <summary>A membership change is still uncommitted, or this leader has not yet committed an entry of its term.</summary>
    ConfChangePending,

    /// <summary>The membership change is not allowed (would leave no voter, remove the leader itself, or does not fit the configuration).</summary>
    ConfChangeInvalid,

    /// <summary>Leadership cannot go to that node (unknown, a learner, or the leader itself).</summary>
    InvalidTransferee,
}

/// <summary>
/// The typed answer to <see cref="RaftNode.Propose"/> and the other requests: the core never drops a request
/// silently; it accepts it or says why not and where the leader is.
/// </summary>
public readonly record struct RaftResult(RaftResultCode Code, ulong LeaderHint = 0, ulong Index = 0, ulong Term = 0, string? Reason = null)
{
    public bool IsOk => Code == RaftResultCode.Ok;

    public static RaftResult Accepted(ulong index = 0, ulong term = 0) => new(RaftResultCode.Ok, Index: index, Term: term);

    public static RaftResult NotLeader(ulong leaderHint) => new(RaftResultCode.NotLeader, leaderHint);

    public override string ToString() => Code switch
    {
        RaftResultCode.Ok when Index != 0 => $"ok index={Index} term={Term}",
        RaftResultCode.Ok => "ok",
        RaftResultCode.NotLeader => $"not leader (leader hint {LeaderHint})",
        _ when Reason is not null => $"{Code}: {Reason}",
        _ => Code.ToString(),
    };
}
