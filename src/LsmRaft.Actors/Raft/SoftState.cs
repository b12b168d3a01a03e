namespace LsmRaft.Actors.Raft;

/// <summary>The role a node plays in its current term.</summary>
internal enum RaftRole : byte
{
    Follower,
    PreCandidate,
    Candidate,
    Leader,
}

/// <summary>Volatile state worth telling the shell about when it changes; never persisted.</summary>
internal readonly record struct SoftState(ulong Lead, RaftRole Role);
