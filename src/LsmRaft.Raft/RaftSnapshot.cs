namespace LsmRaft.Raft;

/// <summary>Where a snapshot sits in the log and which configuration was in effect at that index.</summary>
public sealed record SnapshotMetadata(ulong Index, ulong Term, ConfState ConfState);

/// <summary>
/// A state-machine snapshot: everything up to and including <see cref="SnapshotMetadata.Index"/>,
/// with opaque <see cref="Data"/> the core never interprets.
/// </summary>
public sealed record RaftSnapshot(SnapshotMetadata Metadata, byte[] Data)
{
    public ulong Index => Metadata.Index;

    public ulong Term => Metadata.Term;

    /// <summary>A snapshot at index 0 with the given configuration: the starting point of a fresh group.</summary>
    public static RaftSnapshot Initial(ConfState confState) => new(new SnapshotMetadata(0, 0, confState), []);
}
