using LsmRaft.Host.Api;
using LsmRaft.Protocol.Cluster;
using LsmRaft.Protocol.Peer;

namespace LsmRaft.Host.Node;

/// <summary>
/// Moves one replica of a shard from a node to another while the shard keeps serving: the target is listed as
/// a learner in the shard map under a new replica id, the group's next incarnation on that node, allocated by the same
/// compare-and-set (its node starts an empty replica under that id; docs/raft.md, "Replica identity"), added to the Raft group as a learner (it
/// receives a snapshot, then the log), promoted to voter once it has caught up, and the source is removed
/// (leadership handed to the target first if the source leads); finally the map lists the target instead of
/// the source, and the source's node retires its replica. Every step checks the group's state first, so a move
/// that stopped half-way (deadline, node restart) continues where it stopped when it is issued again; one that
/// nobody issues again is settled by the placement driver (<see cref="SettleLearnerAsync"/>). A target whose node
/// goes down (<paramref name="isDown"/>) while it catches up ends the move: its learner is removed at once.
/// Operators and the map speak of nodes; every membership step names the Raft id of the replica on that node
/// (<see cref="ShardInfo.ReplicaIdOf"/>).
/// </summary>
internal sealed class ReplicaMover(RequestRouter router, ShardMapStore maps, Func<ulong, bool> isDown, ILogger logger)
{
    /// <summary>The learner counts as caught up within this many entries of the leader's commit index.</summary>
    private const ulong MaxLag = 64;

    public async Task MoveAsync(ulong shardId, ulong from, ulong to, CancellationToken cancellationToken)
    {
        if (shardId == ClusterLayout.MetaGroupId)
            throw new OperationConflictException("The meta group's replicas stay on the nodes of the bootstrap layout: it is not moved (a lost meta replica is replaced on its own node).");
        logger.LogInformation("Moving shard {Shard}'s replica from node {From} to node {To}", shardId, from, to);
        try
        {
            await maps.UpdateAsync(map => Change(map, shardId, s => s.IsOn(to) ? null : s.AllocateIncarnation(to)), cancellationToken).ConfigureAwait(false);
        }
        catch (IncarnationsExhaustedException e)
        {
            throw new OperationConflictException($"Shard {shardId} cannot get another replica on node {to}: {e.Message}");
        }
        // The Raft ids of the two replicas (the map lists both nodes until the end of the move).
        ulong source = Shard(shardId).ReplicaIdOf(from).Value;
        ulong target = Shard(shardId).ReplicaIdOf(to).Value;
        await MoveAsync(shardId, from, source, to, target, cancellationToken).ConfigureAwait(false);
    }

    private async Task MoveAsync(ulong shardId, ulong fromNode, ulong from, ulong toNode, ulong to, CancellationToken cancellationToken)
    {
        var progress = await ProgressAsync(shardId, to, cancellationToken).ConfigureAwait(false);
        logger.LogDebug("Shard {Shard}: leader {Leader}, voters [{Voters}], learners [{Learners}]", shardId, progress.Leader, string.Join(",", progress.Voters), string.Join(",", progress.Learners));
        if (!progress.Learners.Contains(to) && !progress.Voters.Contains(to))
            await ChangeAsync(shardId, MembershipChange.AddLearner, to, cancellationToken).ConfigureAwait(false);

        // Poll the leader until the learner holds the snapshot and the log up to MaxLag behind; bounded by the caller's deadline.
        for (int attempt = 0; ; attempt++)
        {
            progress = await ProgressAsync(shardId, to, cancellationToken).ConfigureAwait(false);
            if (progress.Voters.Contains(to) || progress.CaughtUp && await TargetHoldsAsync(shardId, toNode, to, progress.Match, cancellationToken).ConfigureAwait(false))
                break;
            // Gone from the group and from the map: settled by the placement driver. (Gone from the group only: a new
            // leader that has not applied the AddLearner yet, or the driver between its two steps; poll on.)
            if (!progress.Learners.Contains(to) && !Shard(shardId).Learners.Contains(toNode))
                throw new OperationConflictException($"Node {toNode} is no longer a learner of shard {shardId}: the placement driver removed it (its node went down, or the move stalled); issue the move again.");
            if (isDown(toNode))
            {
                await SettleLearnerAsync(shardId, toNode, cancellationToken).ConfigureAwait(false);
                throw new OperationConflictException($"Node {toNode} went down while it caught up with shard {shardId}; its learner was removed. Issue the move again once the node is up, or pick another node.");
            }
            if (attempt % 20 == 0)
                logger.LogDebug("Shard {Shard}: waiting for replica {To} to catch up (match {Match}, commit {Commit})", shardId, ReplicaId.Describe(to), progress.Match, progress.Commit);
            await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(50 * (attempt + 1), 500)), cancellationToken).ConfigureAwait(false);
        }
        if (!progress.Voters.Contains(to))
            await ChangeAsync(shardId, MembershipChange.Promote, to, cancellationToken).ConfigureAwait(false);

        progress = await ProgressAsync(shardId, to, cancellationToken).ConfigureAwait(false);
        if (progress.Voters.Contains(from) || progress.Learners.Contains(from))
        {
            if (progress.Leader == from)
            {
                await router.TransferLeaderAsync(Shard(shardId), to, cancellationToken).ConfigureAwait(false);
                // The transfer is asynchronous: wait until another node answers as leader.
                for (int attempt = 0; (await ProgressAsync(shardId, to, cancellationToken).ConfigureAwait(false)).Leader == from; attempt++)
                    await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(20 * (attempt + 1), 200)), cancellationToken).ConfigureAwait(false);
            }
            await ChangeAsync(shardId, MembershipChange.Remove, from, cancellationToken).ConfigureAwait(false);
        }

        await maps.UpdateAsync(map => Change(map, shardId, s => s.Replicas.Contains(toNode) && !s.Replicas.Contains(fromNode) && !s.Learners.Contains(toNode) ? null
            : s with { Replicas = [.. s.Replicas.Where(r => r != fromNode && r != toNode), toNode], Learners = [.. s.Learners.Where(l => l != toNode && l != fromNode)] }), cancellationToken).ConfigureAwait(false);
        logger.LogInformation("Moved shard {Shard}'s replica from node {From} to node {To} (replica {Replica})", shardId, fromNode, toNode, ReplicaId.Describe(to));
    }

    /// <summary>
    /// Whether the move's target itself confirms what the leader's match says: its node runs the replica under
    /// <paramref name="to"/> and has committed up to <paramref name="match"/>. The leader's match may predate a loss of
    /// the learner's directory (its node restarting: it re-creates the learner empty under the same id, which never
    /// voted), and promoting on such a match would make a voter of a replica without the log it is counted for
    /// (docs/raft.md, "Replica identity"). A replica's commit index never passes what it holds of its leader's log, so
    /// a target that committed up to the match holds it. False while its node does not answer.
    /// </summary>
    private async Task<bool> TargetHoldsAsync(ulong shardId, ulong toNode, ulong to, ulong match, CancellationToken cancellationToken)
    {
        try
        {
            var own = await router.GetReplicaProgressAsync(Shard(shardId), toNode, cancellationToken).ConfigureAwait(false);
            if (own.Replica == to && own.Commit >= match)
                return true;
            logger.LogDebug("Shard {Shard}: the leader counts replica {To} caught up (match {Match}), but its node reports replica {Replica} at commit {Commit}: not promoting yet",
                shardId, ReplicaId.Describe(to), match, ReplicaId.Describe(own.Replica), own.Commit);
            return false;
        }
        catch (Exception e) when (e is KvException or IOException or TimeoutException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            logger.LogDebug("Shard {Shard}: node {Node} did not confirm its replica {To}: {Message}", shardId, toNode, ReplicaId.Describe(to), e.Message);
            return false;
        }
    }

    /// <summary>
    /// Replaces the replica of a group (a shard, or the meta group) that <paramref name="node"/> lost (the map lists the node as a voter, but the
    /// node holds no manifest for that replica's id: its directory or its whole DATA_DIR is gone). The lost id is never
    /// used again, since its log and its votes are gone with it: the group removes it, the map drops the node and lists
    /// it as a learner under the group's next incarnation there (one compare-and-set), and that new replica joins as
    /// every move's target does (snapshot, catch-up, promotion). Removing first keeps the voter count: the lost replica
    /// counted toward no quorum any more. Idempotent up to the allocation; after it, the learner is this move's target
    /// (or, if the move stops, the placement driver's to settle).
    /// </summary>
    public async Task ReplaceLostAsync(ulong shardId, ulong node, CancellationToken cancellationToken)
    {
        var shard = Shard(shardId);
        if (!shard.Replicas.Contains(node))
            return;
        ulong lost = shard.ReplicaIdOf(node).Value;
        logger.LogWarning("Shard {Shard}: node {Node} lost its replica {Lost} (no manifest for it on the node); replacing it with a new incarnation", shardId, node, ReplicaId.Describe(lost));
        var progress = await ProgressAsync(shardId, lost, cancellationToken).ConfigureAwait(false);
        if (progress.Leader == lost)
            throw new OperationConflictException($"Shard {shardId}'s leader is replica {ReplicaId.Describe(lost)}, which node {node} no longer holds; retry once the group has elected another leader.");
        if (progress.Voters.Contains(lost) || progress.Learners.Contains(lost))
            await ChangeAsync(shardId, MembershipChange.Remove, lost, cancellationToken).ConfigureAwait(false);
        try
        {
            await maps.UpdateAsync(map => Change(map, shardId, s => !s.Replicas.Contains(node) || s.ReplicaIdOf(node).Value != lost ? null
                : (s with { Replicas = [.. s.Replicas.Where(r => r != node)] }).AllocateIncarnation(node)), cancellationToken).ConfigureAwait(false);
        }
        catch (IncarnationsExhaustedException e)
        {
            throw new OperationConflictException($"Shard {shardId} cannot get another replica on node {node}: {e.Message}");
        }
        var now = Shard(shardId);
        if (!now.Learners.Contains(node))
            return; // another driver placed it meanwhile
        await MoveAsync(shardId, node, lost, node, now.ReplicaIdOf(node).Value, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Settles a learner the shard map lists but no move is waiting for any more: one the group has already promoted
    /// (the move stopped after the promotion) is recorded in the map as a replica; any other is removed from the group
    /// (a Raft membership change) and then from the map, after which its node, when it is reachable, retires its
    /// replica and deletes its data (<see cref="NodeRuntime"/>'s reconciling). True when the learner was removed.
    /// </summary>
    public async Task<bool> SettleLearnerAsync(ulong shardId, ulong node, CancellationToken cancellationToken)
    {
        ulong replica = Shard(shardId).ReplicaIdOf(node).Value;
        var progress = await ProgressAsync(shardId, replica, cancellationToken).ConfigureAwait(false);
        if (progress.Voters.Contains(replica))
        {
            logger.LogWarning("Shard {Shard}: node {Node} is listed as a learner but the group has promoted it (a move stopped after the promotion): recording it as a replica", shardId, node);
            await maps.UpdateAsync(map => Change(map, shardId, s => !s.Learners.Contains(node) ? null
                : s with { Replicas = [.. s.Replicas.Where(r => r != node), node], Learners = [.. s.Learners.Where(l => l != node)] }), cancellationToken).ConfigureAwait(false);
            return false;
        }
        logger.LogWarning("Shard {Shard}: removing node {Node}'s learner, which a move left behind (its node is down, or it did not catch up in time)", shardId, node);
        if (progress.Learners.Contains(replica))
            await ChangeAsync(shardId, MembershipChange.Remove, replica, cancellationToken).ConfigureAwait(false);
        await maps.UpdateAsync(map => Change(map, shardId, s => !s.Learners.Contains(node) ? null
            : s with { Learners = [.. s.Learners.Where(l => l != node)] }), cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>The shard, or for <see cref="ClusterLayout.MetaGroupId"/> the meta group, as the map lists it.</summary>
    private ShardInfo Shard(ulong shardId) => maps.Group(shardId);

    /// <param name="replica">The Raft id whose progress the leader reports.</param>
    private Task<ProgressResult> ProgressAsync(ulong shardId, ulong replica, CancellationToken cancellationToken) =>
        router.GetProgressAsync(Shard(shardId), replica, MaxLag, cancellationToken);

    /// <param name="node">The Raft id of the replica to add, promote or remove.</param>
    private async Task ChangeAsync(ulong shardId, MembershipChange change, ulong node, CancellationToken cancellationToken)
    {
        // The group takes one membership change at a time, and a new leader none before an entry of its own term
        // commits (as right after the leadership was handed to the move's target): wait for that rather than be
        // refused. A refusal for the same reason in between is retried by the router (Rejected.Retryable).
        for (int attempt = 0; (await ProgressAsync(shardId, node, cancellationToken).ConfigureAwait(false)).ConfChangePending; attempt++)
            await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(20 * (attempt + 1), 200)), cancellationToken).ConfigureAwait(false);
        try
        {
            await router.ChangeMembershipAsync(Shard(shardId), change, node, cancellationToken).ConfigureAwait(false);
        }
        catch (BadRequestException e)
        {
            throw new OperationConflictException($"Shard {shardId} refused to {change} replica {ReplicaId.Describe(node)}: {e.Message}");
        }
    }

    private static ShardMapStore.StoredMap? Change(ShardMapStore.StoredMap map, ulong shardId, Func<ShardInfo, ShardInfo?> change) =>
        change(map.Group(shardId)) is { } changed ? map.WithGroup(changed) : null;
}
