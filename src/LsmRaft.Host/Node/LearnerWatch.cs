using LsmRaft.Protocol.Cluster;

namespace LsmRaft.Host.Node;

/// <summary>
/// The placement driver's record of the learners the shard map lists, to find those a move left behind: a move that
/// stopped half-way (deadline, target down, the node running it restarted) leaves its target listed as a learner, and
/// while any learner is listed rebalancing waits. A learner counts as left behind when its node is down, or when this
/// watch has seen it listed for longer than <see cref="Bound"/>: no move runs longer than
/// <see cref="ClusterAdmin.MoveTimeout"/>, so past it no move is waiting for that learner any more. Pure: time is passed in.
/// </summary>
internal sealed class LearnerWatch(TimeSpan bound)
{
    /// <summary>The default bound: a move's deadline, plus a minute for the move to give up and the map to show it.</summary>
    public static readonly TimeSpan DefaultBound = ClusterAdmin.MoveTimeout + TimeSpan.FromMinutes(1);

    private readonly Dictionary<(ulong Shard, ulong Node), DateTimeOffset> _since = new();

    public TimeSpan Bound => bound;

    /// <summary>
    /// Records the learners <paramref name="shards"/> list (first seen now, unless seen before; forgotten once no longer
    /// listed), and returns those left behind at <paramref name="now"/>, ordered by shard then node.
    /// </summary>
    public IReadOnlyList<(ulong Shard, ulong Node)> LeftBehind(IReadOnlyList<ShardInfo> shards, Func<ulong, bool> isDown, DateTimeOffset now)
    {
        var listed = shards.SelectMany(s => s.Learners.Select(l => (s.Id, l))).ToHashSet();
        foreach (var gone in _since.Keys.Where(k => !listed.Contains(k)).ToList())
            _since.Remove(gone);
        foreach (var learner in listed)
            _since.TryAdd(learner, now);
        return listed.Where(l => isDown(l.Item2) || now - _since[l] > bound).Order().ToList();
    }

    /// <summary>Forgets every learner: called when this node stops leading the meta group (another node's watch takes over, from zero).</summary>
    public void Clear() => _since.Clear();
}
