using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using Akka.Event;

namespace LsmRaft.Host.Sharding;

/// <summary>
/// The replica region's allocation strategy (shared/AKKA.md §5): shard <c>"&lt;node&gt;"</c> goes to the region on that
/// node (<see cref="ReplicaHome"/>), or nowhere: a refusal is a faulted task, and the coordinator asks again on the
/// region's next retry (<c>akka.cluster.sharding.retry-interval</c>). The requester is never a fallback. Rebalance
/// returns nothing, ever: a replica moves only by a Raft membership change that creates a replica on the target node.
/// </summary>
internal sealed class PinnedReplicaAllocation : IActorSystemDependentAllocationStrategy
{
    private Cluster? _cluster;
    private ILoggingAdapter? _log;
    private int _refusals;

    /// <summary>Allocations refused so far by this node's strategy (it runs where the coordinator runs: the oldest node).</summary>
    public int Refusals => Volatile.Read(ref _refusals);

    public void Start(ActorSystem system)
    {
        _cluster = Cluster.Get(system);
        _log = Logging.GetLogger(system, "lsmraft.sharding");
    }

    public Task<IActorRef> AllocateShard(IActorRef requester, string shardId, IImmutableDictionary<IActorRef, IImmutableList<string>> currentShardAllocations)
    {
        if (_cluster is not { } cluster)
            return Refuse(shardId, "the allocation strategy has not been started");
        var state = cluster.State;
        var members = state.Members
            .Select(m => new RegionMember(m.Address, m.Roles, IsLive(m.Status) && !state.Unreachable.Contains(m)))
            .ToList();
        var regions = currentShardAllocations.Keys.ToList();
        var addresses = regions.Select(r => r.Path.Address.HasLocalScope ? cluster.SelfAddress : r.Path.Address).ToList();
        var decision = ReplicaHome.Choose(shardId, members, addresses);
        return decision.Refusal is { } reason ? Refuse(shardId, reason) : Task.FromResult(regions[decision.Region]);
    }

    /// <summary>
    /// A member whose region may host its node's shard: joining or up, not on its way out. Joining counts: a region that
    /// registered with the coordinator is there to host (a node kept Joining by a slow convergence still starts its own
    /// replicas), and the coordinator watches it, so a region that dies is deallocated and asked for again.
    /// </summary>
    private static bool IsLive(MemberStatus status) => status is MemberStatus.Joining or MemberStatus.WeaklyUp or MemberStatus.Up;

    public Task<IImmutableSet<string>> Rebalance(IImmutableDictionary<IActorRef, IImmutableList<string>> currentShardAllocations, IImmutableSet<string> rebalanceInProgress) =>
        Task.FromResult<IImmutableSet<string>>(ImmutableHashSet<string>.Empty);

    private Task<IActorRef> Refuse(string shardId, string reason)
    {
        Interlocked.Increment(ref _refusals);
        _log?.Info("Not allocating replica shard {0}: {1} (retried)", shardId, reason);
        return Task.FromException<IActorRef>(new ReplicaAllocationRefusedException(shardId, reason));
    }
}
