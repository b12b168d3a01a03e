using LsmRaft.Raft;
using LsmRaft.Actors.Replica;
using LsmRaft.Protocol.Cluster;

namespace LsmRaft.Host.Node;

/// <summary>
/// The shard region's placement side: keeps this node's replicas in line with the shard map, and (on the node
/// leading the meta group) re-creates elsewhere the replicas of nodes that stay down too long.
/// </summary>
internal sealed partial class NodeRuntime
{
    private static readonly TimeSpan RepairInterval = TimeSpan.FromSeconds(2);

    /// <summary>How long a voting replica the map places here may be missing before this node creates it empty (a split in progress creates it with data).</summary>
    private static readonly TimeSpan MissingReplicaGrace = TimeSpan.FromSeconds(5);
    private readonly object _creationLock = new();
    private readonly Dictionary<ulong, DateTimeOffset> _missingSince = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<ulong, bool> _replacing = new(); // shards whose lost replica is being replaced
    private readonly SemaphoreSlim _reconciling = new(1, 1);
    private readonly CancellationTokenSource _placementStop = new();
    private Task? _repairLoop;
    private readonly LearnerWatch _learners = new(LearnerWatch.DefaultBound);

    /// <summary>Runs replica moves for operators and for the repair loop.</summary>
    public ReplicaMover? Mover { get; private set; }

    private void StartPlacement()
    {
        // A move's target counts as down only when it is neither an up member nor connected: a node that has just joined
        // (through the peer port) serves its learner before Akka's membership has marked it up.
        Mover = new ReplicaMover(Router!, _maps!, node => !SeemsAlive(node, DateTimeOffset.UtcNow), _loggers.CreateLogger("lsmraft.placement"));
        _maps!.Changed += shards => _ = ReconcileAsync(shards);
        _repairLoop = Task.Run(RepairLoopAsync);
    }

    /// <summary>
    /// Starts an empty replica for every shard the map lists this node as a learner of (a move's target: it
    /// learns the group's state from the leader's snapshot), and retires every local replica of a shard the map
    /// no longer lists this node in. The meta group, which the map lists too (once read from the meta group), is
    /// reconciled like a shard, except that it is never retired (its nodes are the bootstrap layout's). The map is changed only after the group's membership change committed, so
    /// a shard the map does not list this node in has a committed membership without it. Shards absent from
    /// the map (a split's new shard before the map records it) are left alone.
    /// </summary>
    private async Task ReconcileAsync(IReadOnlyList<ShardInfo> shards)
    {
        if (_stopping)
            return;
        await _reconciling.WaitAsync().ConfigureAwait(false);
        try
        {
            ulong self = _config.PeerId;
            var now = DateTimeOffset.UtcNow;
            foreach (var shard in WithMetaGroup(shards))
            {
                bool learner = shard.Learners.Contains(self);
                if (!learner && !shard.Replicas.Contains(self))
                {
                    _missingSince.Remove(shard.Id);
                    continue;
                }
                if (_replicas.TryGet(shard.Id, out var running))
                {
                    // The map names a later incarnation here than the one running: the running replica was removed from
                    // the group and the group came back to this node before this node saw the map without it. Retire it;
                    // the new one starts empty under its own id below. (An earlier incarnation in the map is a stale copy.)
                    if (ReplicaId.IncarnationOf(running.ReplicaId) >= shard.ReplicaIdOf(self).Incarnation)
                    {
                        _missingSince.Remove(shard.Id);
                        continue;
                    }
                    _logger.LogInformation("Shard {Shard}: the map places replica {Wanted} here, which replaces the retired {Running}", shard.Id, shard.ReplicaIdOf(self), ReplicaId.Describe(running.ReplicaId));
                    await RetireReplicaAsync(running).ConfigureAwait(false);
                }
                // A voter the map places here but this node lacks: a split this node's replica has not applied yet
                // (it creates the child with data), one it will never apply because it installed a snapshot taken
                // after the split, or a replica whose directory (or whole DATA_DIR) was lost. Give the first case time;
                // then the voter's id is never used again (it may have voted and acknowledged entries it no longer
                // holds): the group replaces it with a new incarnation here (docs/raft.md, "Replica identity").
                if (!learner && now - (_missingSince.TryAdd(shard.Id, now) ? now : _missingSince[shard.Id]) < MissingReplicaGrace)
                    continue;
                string dir = ReplicaDirectory(shard.Id);
                if (!learner && !ReplicaManifest.Exists(_fs, dir))
                {
                    ReplaceLostReplica(shard.Id);
                    continue;
                }
                lock (_creationLock)
                {
                    if (!ReplicaManifest.Exists(_fs, dir))
                    {
                        // A replica this node held before (moved away, now moved back) left its log behind: start
                        // that log over. Waited for under the creation lock (one fsync) so that a split child of the
                        // same group cannot be created in between.
                        if (_log!.Holds(shard.Id))
                        {
                            _logger.LogInformation("Shard {Shard}: dropping what this node's log kept of the group's earlier replica here", shard.Id);
                            _log.ForgetAsync(shard.Id, CancellationToken.None).AsTask().GetAwaiter().GetResult();
                        }
                        _fs.DeleteDirectory(dir);
                        ReplicaManifest.Create(shard.Id, shard.ReplicaIdOf(self).Value, ConfState.Empty, new ShardDescriptor(shard.RangeStart, shard.RangeEnd, shard.Epoch)).Write(_fs, dir);
                        _logger.LogInformation("Starting an empty replica {Replica} of shard {Shard} (joining as a learner); it learns the shard's state from a snapshot", shard.ReplicaIdOf(self), shard.Id);
                    }
                    StartReplica(shard.Id);
                }
                _missingSince.Remove(shard.Id);
            }
            foreach (var replica in _replicas.All)
            {
                if (replica.GroupId == ClusterLayout.MetaGroupId || shards.FirstOrDefault(s => s.Id == replica.GroupId) is not { } shard)
                    continue;
                if (!shard.Replicas.Contains(self) && !shard.Learners.Contains(self))
                    await RetireReplicaAsync(replica).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or InvalidDataException)
        {
            _logger.LogWarning("Reconciling replicas with the shard map failed: {Message}", e.Message);
        }
        finally
        {
            _reconciling.Release();
        }
    }

    /// <summary>The shards and, once the map was read from the meta group, the meta group (<see cref="ShardMapStore.MetaGroup"/>).</summary>
    private IReadOnlyList<ShardInfo> WithMetaGroup(IReadOnlyList<ShardInfo> shards) =>
        _maps!.MetaGroup is { } meta ? [meta, .. shards] : shards;

    /// <summary>
    /// Has the replica of <paramref name="shardId"/> this node lost replaced by a new incarnation
    /// (<see cref="ReplicaMover.ReplaceLostAsync"/>), in the background (the replacement needs this node to reconcile
    /// meanwhile: it starts the new learner); one at a time per shard, retried by later rounds while the map still lists
    /// the lost voter.
    /// </summary>
    private void ReplaceLostReplica(ulong shardId)
    {
        if (_stopping || !_replacing.TryAdd(shardId, true))
            return;
        _ = Task.Run(async () =>
        {
            try
            {
                using var deadline = CancellationTokenSource.CreateLinkedTokenSource(_placementStop.Token);
                deadline.CancelAfter(ClusterAdmin.MoveTimeout);
                await Mover!.ReplaceLostAsync(shardId, _config.PeerId, deadline.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is LsmRaft.Host.Api.KvException or IOException or TimeoutException or OperationCanceledException or InvalidOperationException)
            {
                _logger.LogWarning("Replacing the lost replica of shard {Shard} on this node failed, will retry: {Message}", shardId, e.Message);
            }
            finally
            {
                _replacing.TryRemove(shardId, out _);
            }
        });
    }

    /// <summary>
    /// Stops a replica this node no longer holds, deletes its directory, then drops its log (term and vote stay).
    /// In that order: a crash in between leaves a log without a replica, which is started over if the group
    /// comes back here, never a replica whose engine is ahead of its log.
    /// </summary>
    private async Task RetireReplicaAsync(ReplicaHandle replica)
    {
        _logger.LogInformation("Retiring the replica of shard {Shard}: the shard map no longer lists this node", replica.GroupId);
        lock (_replicas)
            _replicas.Remove(replica.GroupId, out _);
        await StopThroughRegionAsync(replica).ConfigureAwait(false);
        _health.Forget(replica.GroupId);
        _fs.DeleteDirectory(ReplicaDirectory(replica.GroupId));
        await _log!.ForgetAsync(replica.GroupId, CancellationToken.None).ConfigureAwait(false);
        _changed.Notify();
    }

    /// <summary>
    /// Every <see cref="RepairInterval"/>: reconciles this node's replicas with the map; and on the meta group's leader, a node silent for longer than DownReplicaTimeout has each of its replicas
    /// moved to the live node holding the fewest replicas that has none of that shard; one move at a time.
    /// </summary>
    private async Task RepairLoopAsync()
    {
        var token = _placementStop.Token;
        while (!token.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(RepairInterval, token).ConfigureAwait(false);
                if (_maps!.TryLookup is { } map)
                    await ReconcileAsync(map.Shards).ConfigureAwait(false); // also when the map did not change: missing replicas age
                if (_replicas.TryGet(ClusterLayout.MetaGroupId, out var meta) && meta.Status is { Role: RaftRole.Leader })
                    await RepairOnceAsync(token).ConfigureAwait(false);
                else
                    _learners.Clear();
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is LsmRaft.Host.Api.KvException or IOException or TimeoutException or OperationCanceledException)
            {
                _logger.LogWarning("Re-creating replicas of a down node failed, will retry: {Message}", e.Message);
            }
        }
    }

    private async Task RepairOnceAsync(CancellationToken token)
    {
        var now = DateTimeOffset.UtcNow;
        if (_registry is not { Known.Count: > 0 } registry)
            return;
        var known = registry.Known;
        // Down (not an up, reachable member of the Akka cluster) for longer than the setting: a short partition is not a dead node.
        // The cluster-wide settings from the meta group, so the outcome does not depend on which node leads it.
        var settings = _maps!.Settings;
        var downTimeout = settings is null ? _config.DownReplicaTimeout : TimeSpan.FromSeconds(settings.DownReplicaTimeoutSeconds);
        // A node an operator removed counts as down at once; a marked node (removed or draining) is never a target.
        var marks = _maps.Marks;
        var down = known.Values.Where(r => _membership!.DownSince(r.Id) is { } since && now - since > downTimeout).Select(r => r.Id)
            .Concat(marks.Values.Where(m => m.State == NodeState.Removed).Select(m => m.Node))
            .ToHashSet();
        var up = known.Values.Where(r => _membership!.StateOf(r.Id) == NodeState.Up && !marks.ContainsKey(r.Id)).Select(r => r.Id).ToList();
        if (await SettleLeftBehindLearnersAsync(WithMetaGroup(_maps.Lookup.Shards), id => !SeemsAlive(id, now) || marks.TryGetValue(id, out var m) && m.State == NodeState.Removed, now, token).ConfigureAwait(false))
            return;
        var shards = _maps.Lookup.Shards;
        foreach (var shard in shards)
        {
            ulong lost = shard.Replicas.FirstOrDefault(down.Contains);
            if (lost == 0)
                continue;
            var target = up.Where(n => !shard.Replicas.Contains(n) && !shard.Learners.Contains(n))
                .OrderBy(n => shards.Count(s => s.Replicas.Contains(n)))
                .ThenBy(n => n)
                .FirstOrDefault();
            if (target == 0)
                continue; // no live node without a replica of this shard: the shard keeps running one short
            _logger.LogWarning("Node {Node} has been down for more than {Timeout}: re-creating its replica of shard {Shard} on node {Target}", lost, downTimeout, shard.Id, target);
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(token);
            deadline.CancelAfter(ClusterAdmin.MoveTimeout);
            await Mover!.MoveAsync(shard.Id, lost, target, deadline.Token).ConfigureAwait(false);
            return; // one move per round; the next round sees the new map
        }
        foreach (var draining in marks.Values.Where(m => m.State == NodeState.Draining).Select(m => m.Node).Order())
        {
            if (await DrainOnceAsync(draining, up, token).ConfigureAwait(false))
                return;
        }
        if (await HandMetaLeadershipAwayIfMarkedAsync(marks, token).ConfigureAwait(false))
            return;
        bool repairPending = shards.Any(s => s.Replicas.Concat(s.Learners).Any(down.Contains));
        if ((settings?.Rebalance ?? _config.Rebalance) && !repairPending)
            await RebalanceOnceAsync(up, shards, token).ConfigureAwait(false);
    }

    /// <summary>
    /// Settles the learners that moves left behind (<see cref="LearnerWatch"/>: on a down or removed node, or listed
    /// longer than its bound): each is removed from its group and the map, or recorded as a replica if the group had
    /// promoted it. Runs before repair and rebalancing, which wait while any learner is listed. True when it settled any.
    /// </summary>
    private async Task<bool> SettleLeftBehindLearnersAsync(IReadOnlyList<ShardInfo> shards, Func<ulong, bool> isDown, DateTimeOffset now, CancellationToken token)
    {
        var leftBehind = _learners.LeftBehind(shards, isDown, now);
        foreach (var (shard, node) in leftBehind)
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(token);
            deadline.CancelAfter(ClusterAdmin.MoveTimeout);
            await Mover!.SettleLearnerAsync(shard, node, deadline.Token).ConfigureAwait(false);
        }
        return leftBehind.Count > 0;
    }

    /// <summary>
    /// One step of a drain (<c>cluster leave</c>): moves the node's replicas, one shard after another, each to the up
    /// unmarked node with the fewest replicas that holds none of that shard; once it holds none (and does not lead
    /// the meta group), marks it removed. True when it did something.
    /// </summary>
    private async Task<bool> DrainOnceAsync(ulong node, IReadOnlyList<ulong> up, CancellationToken token)
    {
        bool moved = false;
        foreach (var shard in _maps!.Lookup.Shards.Where(s => s.Replicas.Contains(node) || s.Learners.Contains(node)).OrderBy(s => s.Id).ToList())
        {
            var shards = _maps.Lookup.Shards;
            var target = up.Where(n => n != node && !shard.Replicas.Contains(n) && !shard.Learners.Contains(n))
                .OrderBy(n => shards.Count(s => s.Replicas.Contains(n)))
                .ThenBy(n => n)
                .FirstOrDefault();
            if (target == 0)
                continue; // blocked: GET /v1/admin/nodes/{id}/drain says why
            _logger.LogInformation("Draining node {Node}: moving its replica of shard {Shard} to node {Target}", node, shard.Id, target);
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(token);
            deadline.CancelAfter(ClusterAdmin.MoveTimeout);
            await Mover!.MoveAsync(shard.Id, node, target, deadline.Token).ConfigureAwait(false);
            moved = true;
        }
        if (moved || _maps.Lookup.Shards.Any(s => s.Replicas.Contains(node) || s.Learners.Contains(node)))
            return moved;
        if (node == _config.PeerId)
            return false; // this node leads the meta group: it hands that leadership away first (the next leader marks it removed)
        _logger.LogInformation("Node {Node} holds no replica any more: marking it removed", node);
        await _maps.UpdateAsync(map => map.Marks?.Any(m => m.Node == node && m.State == NodeState.Draining) == true
            ? map.WithMark(node, NodeState.Removed, DateTimeOffset.UtcNow) : null, token).ConfigureAwait(false);
        return true;
    }

    /// <summary>
    /// A drained or removed node that leads the meta group (so runs placement) hands that leadership to an up, unmarked
    /// meta voter once it holds no shard replica. True when it asked for the transfer.
    /// </summary>
    private async Task<bool> HandMetaLeadershipAwayIfMarkedAsync(IReadOnlyDictionary<ulong, NodeMark> marks, CancellationToken token)
    {
        ulong self = _config.PeerId;
        if (!marks.ContainsKey(self) || _maps!.Lookup.Shards.Any(s => s.Replicas.Contains(self) || s.Learners.Contains(self))
            || !_replicas.TryGet(ClusterLayout.MetaGroupId, out var meta) || meta.Status is not { Role: RaftRole.Leader } status)
            return false;
        var now = DateTimeOffset.UtcNow;
        ulong target = status.Members.Voters.Where(v => ReplicaId.NodeOf(v) is var node && node != self && !marks.ContainsKey(node) && LivenessOf(node, now) == NodeState.Up).Order().FirstOrDefault();
        if (target == 0)
            return false;
        _logger.LogInformation("Node {Node} is {State}: handing the meta group's leadership to node {Target}", self, marks[self].State, target);
        await meta.Ref.RequestAsync<RaftResult>(r => new ReplicaMessage.TransferLeadership(target, r), TimeSpan.FromSeconds(5), token).ConfigureAwait(false);
        return true;
    }

    /// <summary>
    /// Evens out replica counts over the live nodes: while the fullest holds two or more replicas than the emptiest,
    /// move one replica (of a shard the emptiest does not hold) between them. Not while any node is down: repair first.
    /// </summary>
    private async Task RebalanceOnceAsync(IReadOnlyList<ulong> up, IReadOnlyList<ShardInfo> shards, CancellationToken token)
    {
        if (up.Count < 2 || shards.Any(s => s.Learners.Count > 0))
            return;
        var counts = up.ToDictionary(n => n, n => shards.Count(s => s.Replicas.Contains(n)));
        ulong fullest = counts.OrderByDescending(c => c.Value).ThenBy(c => c.Key).First().Key;
        ulong emptiest = counts.OrderBy(c => c.Value).ThenBy(c => c.Key).First().Key;
        if (counts[fullest] - counts[emptiest] < 2)
            return;
        var shard = shards.Where(s => s.Replicas.Contains(fullest) && !s.Replicas.Contains(emptiest)).OrderBy(s => s.Id).FirstOrDefault();
        if (shard is null)
            return;
        _logger.LogInformation("Rebalancing: node {From} holds {Many} replicas, node {To} {Few}; moving shard {Shard}", fullest, counts[fullest], emptiest, counts[emptiest], shard.Id);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(token);
        deadline.CancelAfter(ClusterAdmin.MoveTimeout);
        await Mover!.MoveAsync(shard.Id, fullest, emptiest, deadline.Token).ConfigureAwait(false);
    }

    private async Task StopPlacementAsync()
    {
        _placementStop.Cancel();
        if (_repairLoop is not null)
            await _repairLoop.ConfigureAwait(false);
    }
}
