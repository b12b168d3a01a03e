namespace LsmRaft.Raft;

/// <summary>
/// Everything the shell must do for the core, in this order:
/// <list type="number">
/// <item>If <see cref="Snapshot"/> is set, persist it and install it in the state machine.</item>
/// <item>Persist <see cref="Entries"/> (replacing any stored entries at the same indexes) and <see cref="HardState"/>,
/// durably when <see cref="MustSync"/>.</item>
/// <item>Send <see cref="Messages"/>. They may depend on step 2 (votes, append acknowledgements), so they must not
/// leave before it completes (the classic etcd contract).</item>
/// <item>Apply <see cref="CommittedEntries"/> in order; serve <see cref="ReadStates"/> once their index is applied.</item>
/// <item>Call <see cref="RaftNode.Advance"/> with this Ready.</item>
/// </list>
/// </summary>
public sealed record Ready
{
    /// <summary>Set when the leader or role changed since the previous Ready.</summary>
    public SoftState? SoftState { get; init; }

    /// <summary>Set when term, vote or commit changed since the previous Ready.</summary>
    public HardState? HardState { get; init; }

    public IReadOnlyList<ReadState> ReadStates { get; init; } = [];

    /// <summary>Entries to persist before sending <see cref="Messages"/>.</summary>
    public IReadOnlyList<Entry> Entries { get; init; } = [];

    /// <summary>A snapshot from the leader to persist and install.</summary>
    public RaftSnapshot? Snapshot { get; init; }

    /// <summary>Committed entries to apply, in index order. All are in stable storage once step 2 is done.</summary>
    public IReadOnlyList<Entry> CommittedEntries { get; init; } = [];

    public IReadOnlyList<Message> Messages { get; init; } = [];

    /// <summary>True when the hard state or entries must be fsynced before messages are sent.</summary>
    public bool MustSync { get; init; }
}
