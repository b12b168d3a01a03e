using System.Collections.Immutable;

namespace LsmRaft.Raft;

/// <summary>
/// A membership configuration: who votes and who only receives the log.
/// Invariant: <see cref="Voters"/> and <see cref="Learners"/> are disjoint.
/// </summary>
public sealed class ConfState : IEquatable<ConfState>
{
    public static readonly ConfState Empty = new([], []);

    public ConfState(IEnumerable<ulong> voters, IEnumerable<ulong> learners)
    {
        Voters = [.. voters];
        Learners = [.. learners];
        if (Voters.Overlaps(Learners))
        {
            throw new ArgumentException($"Nodes {string.Join(",", Voters.Intersect(Learners))} are both voters and learners.");
        }
    }

    public ImmutableSortedSet<ulong> Voters { get; }

    public ImmutableSortedSet<ulong> Learners { get; }

    public bool Contains(ulong id) => Voters.Contains(id) || Learners.Contains(id);

    /// <summary>All members, voters first, each group in ascending id order.</summary>
    public IEnumerable<ulong> Members => Voters.Concat(Learners);

    /// <summary>
    /// The configuration after <paramref name="change"/>, or null with a reason when the change would leave
    /// no voter. Changes that alter nothing (adding an existing voter) return an equal configuration.
    /// </summary>
    public ConfState? TryApply(ConfChange change, out string? reason)
    {
        reason = null;
        var id = change.NodeId;
        ConfState next = change.Type switch
        {
            ConfChangeType.AddVoter => new ConfState(Voters.Add(id), Learners.Remove(id)),
            ConfChangeType.AddLearner => new ConfState(Voters.Remove(id), Learners.Add(id)),
            _ => new ConfState(Voters.Remove(id), Learners.Remove(id)),
        };
        if (next.Voters.IsEmpty)
        {
            reason = $"{change} would leave the group without voters";
            return null;
        }

        return next;
    }

    public bool Equals(ConfState? other) =>
        other is not null && Voters.SetEquals(other.Voters) && Learners.SetEquals(other.Learners);

    public override bool Equals(object? obj) => Equals(obj as ConfState);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var v in Voters)
        {
            hash.Add(v);
        }

        hash.Add(-1);
        foreach (var l in Learners)
        {
            hash.Add(l);
        }

        return hash.ToHashCode();
    }

    public override string ToString() =>
        Learners.IsEmpty ? $"voters=({string.Join(",", Voters)})" : $"voters=({string.Join(",", Voters)}) learners=({string.Join(",", Learners)})";
}
