namespace LsmRaft.Raft;

/// <summary>
/// A confirmed linearizable read: once the state machine has applied <see cref="Index"/>, a read for the
/// request identified by <see cref="RequestContext"/> may be served locally.
/// </summary>
public sealed record ReadState(ulong Index, byte[] RequestContext);
