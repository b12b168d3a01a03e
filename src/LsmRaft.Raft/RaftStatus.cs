namespace LsmRaft.Raft;

/// <summary>The leader's view of one member, copied out for diagnostics.</summary>
public readonly record struct ProgressStatus(ulong Match, ulong Next, ProgressState State, bool IsLearner, bool RecentActive, bool Paused, int Inflight, ulong PendingSnapshot);

/// <summary>A point-in-time copy of a node's state, safe to keep after the node moves on.</summary>
public sealed record RaftStatus(
    ulong Id,
    HardState HardState,
    SoftState SoftState,
    ulong Applied,
    ulong LastIndex,
    ulong LeadTransferee,
    ConfState Config,
    IReadOnlyDictionary<ulong, ProgressStatus> Progress);
