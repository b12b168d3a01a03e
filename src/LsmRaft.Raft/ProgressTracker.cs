namespace LsmRaft.Raft;

/// <summary>Outcome of counting votes (or acknowledgements) against the voter majority.</summary>
internal enum VoteResult : byte
{
    Pending,
    Won,
    Lost,
}

/// <summary>
/// The current configuration with one <see cref="Progress"/> per member, and the votes of an election.
/// Quorums are simple majorities of <see cref="ConfState.Voters"/>: single-server changes never need joint consensus.
/// </summary>
internal sealed class ProgressTracker
{
    private readonly SortedDictionary<ulong, Progress> progress = [];
    private readonly Dictionary<ulong, bool> votes = [];
    private readonly int maxInflight;
    private readonly ulong maxInflightBytes;

    // Snapshots of the member and voter ids in ascending order, rebuilt whenever progress or Config changes,
    // so the per-message paths (broadcasts, commit computation) iterate arrays instead of allocating enumerators.
    private ulong[] ids = [];
    private ulong[] voters = [];

    public ProgressTracker(ConfState config, int maxInflight, ulong maxInflightBytes)
    {
        this.maxInflight = maxInflight;
        this.maxInflightBytes = maxInflightBytes;
        Config = config;
        voters = [.. config.Voters];
    }

    public ConfState Config { get; private set; }

    /// <summary>Members in ascending id order (deterministic iteration for message order).</summary>
    public IReadOnlyDictionary<ulong, Progress> Progress => progress;

    /// <summary>The ids of <see cref="Progress"/> in ascending order.</summary>
    public IReadOnlyList<ulong> Ids => ids;

    public int Quorum => (Config.Voters.Count / 2) + 1;

    public bool IsSingleton => Config.Voters.Count == 1;

    public Progress? Get(ulong id) => progress.GetValueOrDefault(id);

    /// <summary>Replace every progress with a fresh one (a new term or role).</summary>
    public void ResetAll(ulong lastIndex)
    {
        progress.Clear();
        foreach (var id in Config.Members)
        {
            progress[id] = NewProgress(lastIndex, Config.Learners.Contains(id));
        }

        ids = [.. progress.Keys];
    }

    /// <summary>
    /// Switch to <paramref name="config"/>, keeping the progress of members that stay, and of the non-members in
    /// <paramref name="departing"/> (removed nodes the leader still sends the log to, as learners that never count).
    /// </summary>
    public void SetConfig(ConfState config, ulong lastIndex, IReadOnlyCollection<ulong>? departing = null)
    {
        Config = config;
        foreach (var id in progress.Keys.Where(id => !config.Contains(id)).ToList())
        {
            if (departing is not null && departing.Contains(id))
            {
                progress[id].IsLearner = true;
                continue;
            }

            progress.Remove(id);
            votes.Remove(id);
        }

        foreach (var id in config.Members)
        {
            if (progress.TryGetValue(id, out var pr))
            {
                pr.IsLearner = config.Learners.Contains(id);
            }
            else
            {
                // A new member counts as active so CheckQuorum does not depose the leader before it is heard from.
                var fresh = NewProgress(lastIndex, config.Learners.Contains(id));
                fresh.RecentActive = true;
                progress[id] = fresh;
            }
        }

        ids = [.. progress.Keys];
        voters = [.. config.Voters];
    }

    /// <summary>Drop the progress of a departed non-member.</summary>
    public void Remove(ulong id)
    {
        if (Config.Contains(id))
        {
            throw new InvalidOperationException($"Node {id} is a member of {Config}; only departed nodes are removed.");
        }

        progress.Remove(id);
        votes.Remove(id);
        ids = [.. progress.Keys];
    }

    /// <summary>
    /// The largest index replicated on a majority of voters: the quorum-th largest <see cref="Progress.Match"/>.
    /// </summary>
    public ulong Committed()
    {
        if (voters.Length == 0)
        {
            return 0;
        }

        Span<ulong> matches = voters.Length <= 16 ? stackalloc ulong[voters.Length] : new ulong[voters.Length];
        for (var i = 0; i < voters.Length; i++)
        {
            matches[i] = progress.TryGetValue(voters[i], out var pr) ? pr.Match : 0;
        }

        matches.Sort();
        return matches[voters.Length - Quorum];
    }

    /// <summary>The quorum-th largest of a per-voter value.</summary>
    public long QuorumValue(Func<ulong, long> value)
    {
        Span<long> values = voters.Length <= 16 ? stackalloc long[voters.Length] : new long[voters.Length];
        for (var i = 0; i < voters.Length; i++)
        {
            values[i] = value(voters[i]);
        }

        values.Sort();
        return values[voters.Length - Quorum];
    }

    /// <summary>CheckQuorum: were a majority of voters (counting <paramref name="self"/>) heard from recently?</summary>
    public bool QuorumActive(ulong self) =>
        Config.Voters.Count(id => id == self || (progress.TryGetValue(id, out var pr) && pr.RecentActive)) >= Quorum;

    public void ResetVotes() => votes.Clear();

    /// <summary>Record a vote; only the first answer of each node in a round counts.</summary>
    public void RecordVote(ulong id, bool granted) => votes.TryAdd(id, granted);

    public (int Granted, int Rejected, VoteResult Result) TallyVotes()
    {
        int granted = 0, rejected = 0;
        foreach (var id in Config.Voters)
        {
            if (votes.TryGetValue(id, out var v))
            {
                if (v)
                {
                    granted++;
                }
                else
                {
                    rejected++;
                }
            }
        }

        return (granted, rejected, Decide(granted, rejected));
    }

    /// <summary>Count acknowledgements from a set of node ids against the voter majority.</summary>
    public VoteResult CountAcks(IReadOnlySet<ulong> acks)
    {
        var granted = Config.Voters.Count(acks.Contains);
        return Decide(granted, 0);
    }

    private VoteResult Decide(int granted, int rejected)
    {
        if (granted >= Quorum)
        {
            return VoteResult.Won;
        }

        return Config.Voters.Count - rejected < Quorum ? VoteResult.Lost : VoteResult.Pending;
    }

    private Progress NewProgress(ulong lastIndex, bool isLearner) =>
        new(lastIndex + 1, maxInflight, maxInflightBytes, isLearner);
}
