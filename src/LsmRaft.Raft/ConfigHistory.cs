namespace LsmRaft.Raft;

/// <summary>
/// The configurations defined by the log. Under single-server changes (Ongaro thesis §4.1) a server uses
/// the latest configuration in its log, committed or not, so when a suffix of the log is truncated the
/// configuration must roll back to the one defined by the surviving prefix.
/// </summary>
/// <remarks>
/// Invariant: <c>baseIndex</c> is at most the applied index, and every conf-change entry above it has a
/// record in <c>changes</c>, in index order. Truncation never goes below the commit index, so the base
/// never needs to be rolled back.
/// </remarks>
internal sealed class ConfigHistory
{
    private readonly List<(ulong Index, ConfState State)> changes = [];
    private ulong baseIndex;
    private ConfState baseState;

    public ConfigHistory(ulong index, ConfState state)
    {
        baseIndex = index;
        baseState = state;
    }

    public ConfState Current => changes.Count > 0 ? changes[^1].State : baseState;

    /// <summary>Index of the newest conf-change entry (or of the base).</summary>
    public ulong CurrentIndex => changes.Count > 0 ? changes[^1].Index : baseIndex;

    /// <summary>Configuration in effect once the log up to <paramref name="index"/> is applied.</summary>
    public ConfState At(ulong index)
    {
        if (index < baseIndex)
        {
            throw new InvalidOperationException($"Configuration at {index} is below the retained base {baseIndex}.");
        }

        for (var i = changes.Count - 1; i >= 0; i--)
        {
            if (changes[i].Index <= index)
            {
                return changes[i].State;
            }
        }

        return baseState;
    }

    /// <summary>
    /// A snapshot at <paramref name="index"/> replaces the log: its configuration is in effect from there on.
    /// Configurations below it are kept until pruned, because a Ready handed out before the snapshot arrived
    /// may still be applying committed conf-change entries below <paramref name="index"/>.
    /// </summary>
    public void Reset(ulong index, ConfState state)
    {
        changes.RemoveAll(c => c.Index >= index);
        if (index <= baseIndex)
        {
            changes.Clear();
            baseIndex = index;
            baseState = state;
            return;
        }
        changes.Add((index, state));
    }

    public void Record(ulong index, ConfState state)
    {
        if (index <= CurrentIndex)
        {
            throw new InvalidOperationException($"Conf change at {index} recorded out of order after {CurrentIndex}.");
        }

        changes.Add((index, state));
    }

    /// <summary>Forget configurations defined by entries at or after <paramref name="index"/>; returns true if any were.</summary>
    public bool TruncateFrom(ulong index)
    {
        var keep = changes.Count;
        while (keep > 0 && changes[keep - 1].Index >= index)
        {
            keep--;
        }

        if (keep == changes.Count)
        {
            return false;
        }

        changes.RemoveRange(keep, changes.Count - keep);
        return true;
    }

    /// <summary>Fold changes at or below <paramref name="appliedIndex"/> into the base.</summary>
    public void Prune(ulong appliedIndex)
    {
        while (changes.Count > 0 && changes[0].Index <= appliedIndex)
        {
            (baseIndex, baseState) = changes[0];
            changes.RemoveAt(0);
        }
    }
}
