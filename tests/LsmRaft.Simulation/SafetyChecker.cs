using LsmRaft.Raft;

namespace LsmRaft.Simulation;

/// <summary>
/// The Raft safety properties (Raft paper, Figure 3), checked over the whole history of one run:
/// election safety, log matching (over durable logs), leader completeness and state-machine safety.
/// </summary>
internal sealed class SafetyChecker
{
    private readonly Dictionary<ulong, ulong> leaderOfTerm = [];

    /// <summary>Committed entries by index (slot 0 unused), as leaders reported committing them.</summary>
    private readonly List<Entry?> committed = [null];

    /// <summary>The entry each index was first applied with, by any replica (slot 0 unused).</summary>
    private readonly List<Entry?> applied = [null];

    /// <summary>Every entry that ever reached a durable log, by (index, term).</summary>
    private readonly Dictionary<(ulong Index, ulong Term), Entry> durable = [];

    public List<Violation> Violations { get; } = [];

    public int LeaderCount => leaderOfTerm.Count;

    /// <summary>True when some leader already reported committing <paramref name="index"/>.</summary>
    public bool IsCommitted(ulong index) => index < (ulong)committed.Count && committed[(int)index] is not null;

    /// <summary>
    /// <paramref name="id"/> is leader in <paramref name="term"/> with <paramref name="log"/>. Election safety:
    /// no other node led that term. Leader completeness: a new leader holds every entry committed so far.
    /// Returns true when this (term, leader) pair is new.
    /// </summary>
    public bool OnLeader(ulong id, ulong term, RaftLog log)
    {
        if (leaderOfTerm.TryGetValue(term, out var existing))
        {
            if (existing != id)
            {
                Violations.Add(new Violation("election-safety", $"nodes {existing} and {id} were both leader in term {term}"));
            }

            return false;
        }

        leaderOfTerm[term] = id;
        var first = log.FirstIndex();
        var last = log.LastIndex();
        for (var i = Math.Max(first, 1UL); i < (ulong)committed.Count; i++)
        {
            if (committed[(int)i] is not { } entry)
            {
                continue;
            }

            if (i > last || !log.TryTerm(i, out var t) || t != entry.Term)
            {
                var has = i > last ? $"its log ends at {last}" : $"it has term {log.TermOrZero(i)} there";
                Violations.Add(new Violation("leader-completeness", $"node {id} became leader of term {term} without committed entry {i} (term {entry.Term}): {has}"));
                return true;
            }
        }

        return true;
    }

    /// <summary>Leader <paramref name="id"/> advanced its commit index over <paramref name="entries"/>.</summary>
    public void OnCommit(ulong id, ulong term, IReadOnlyList<Entry> entries)
    {
        foreach (var e in entries)
        {
            var i = (int)e.Index;
            while (committed.Count <= i)
            {
                committed.Add(null);
            }

            if (committed[i] is { } earlier && !SameEntry(earlier, e))
            {
                Violations.Add(new Violation("leader-completeness", $"leader {id} of term {term} committed entry {i} with term {e.Term}, but entry {i} with term {earlier.Term} was committed before"));
                return;
            }

            committed[i] = e;
        }
    }

    /// <summary>State-machine safety: every replica applies the same entry at each index.</summary>
    public void OnApply(ulong id, Entry e)
    {
        var i = (int)e.Index;
        while (applied.Count <= i)
        {
            applied.Add(null);
        }

        if (applied[i] is { } earlier)
        {
            if (!SameEntry(earlier, e))
            {
                Violations.Add(new Violation("state-machine-safety", $"node {id} applied entry {i} with term {e.Term} ({e.Data.Length} bytes), another replica applied term {earlier.Term} ({earlier.Data.Length} bytes)"));
            }

            return;
        }

        applied[i] = e;
    }

    /// <summary>Log matching, first half: two durable entries with the same index and term are the same entry.</summary>
    public void OnDurable(ulong id, IReadOnlyList<Entry> entries)
    {
        foreach (var e in entries)
        {
            if (durable.TryGetValue((e.Index, e.Term), out var other))
            {
                if (!SameEntry(other, e))
                {
                    Violations.Add(new Violation("log-matching", $"node {id} stored entry {e.Index} of term {e.Term} with different contents than another node"));
                    return;
                }
            }
            else
            {
                durable[(e.Index, e.Term)] = e;
            }
        }
    }

    /// <summary>
    /// Log matching, second half: if two durable logs hold an entry with the same index and term, they are
    /// identical in every earlier index they both hold.
    /// </summary>
    public void CheckLogMatching(IReadOnlyList<(ulong Id, MemoryRaftStorage Log)> logs)
    {
        var snapshots = new List<(ulong Id, ulong First, IReadOnlyList<Entry> Entries)>(logs.Count);
        foreach (var (id, log) in logs)
        {
            var first = log.FirstIndex();
            var last = log.LastIndex();
            snapshots.Add((id, first, last >= first ? log.Entries(first, last + 1, ulong.MaxValue) : []));
        }

        for (var a = 0; a < snapshots.Count; a++)
        {
            for (var b = a + 1; b < snapshots.Count; b++)
            {
                if (!PrefixesMatch(snapshots[a], snapshots[b], out var detail))
                {
                    Violations.Add(new Violation("log-matching", detail));
                    return;
                }
            }
        }
    }

    private static bool PrefixesMatch((ulong Id, ulong First, IReadOnlyList<Entry> Entries) x, (ulong Id, ulong First, IReadOnlyList<Entry> Entries) y, out string detail)
    {
        detail = string.Empty;
        var lo = Math.Max(x.First, y.First);
        var hi = Math.Min(x.First + (ulong)x.Entries.Count, y.First + (ulong)y.Entries.Count);
        if (hi <= lo)
        {
            return true;
        }

        // [lo, top) must match, where top - 1 is the highest common index with equal terms.
        var top = lo;
        for (var i = hi; i > lo; i--)
        {
            if (x.Entries[(int)(i - 1 - x.First)].Term == y.Entries[(int)(i - 1 - y.First)].Term)
            {
                top = i;
                break;
            }
        }

        for (var i = lo; i < top; i++)
        {
            var ex = x.Entries[(int)(i - x.First)];
            var ey = y.Entries[(int)(i - y.First)];
            if (!SameEntry(ex, ey))
            {
                detail = $"durable logs of nodes {x.Id} and {y.Id} agree on entry {top - 1} (term {x.Entries[(int)(top - 1 - x.First)].Term}) but differ at {i} (terms {ex.Term} and {ey.Term})";
                return false;
            }
        }

        return true;
    }

    private static bool SameEntry(Entry a, Entry b) =>
        ReferenceEquals(a, b) || (a.Index == b.Index && a.Term == b.Term && a.Type == b.Type && a.Data.AsSpan().SequenceEqual(b.Data));
}
