namespace LsmRaft.Raft;

/// <summary>The role a node plays in its current term.</summary>
public enum RaftRole : byte
{
    Follower,
    PreCandidate,
    Candidate,
    Leader,
}

/// <summary>Volatile state worth telling the shell about when it changes; never persisted.</summary>
public readonly record struct SoftState(ulong Lead, RaftRole Role);
