using System.Globalization;
using Akka.Actor;
using Akka.Cluster;
using LsmRaft.Host.Membership.Bootstrap;
using LsmRaft.Protocol.Cluster;
using Microsoft.Extensions.Logging;

namespace LsmRaft.Host.Membership;

/// <summary>
/// Node liveness from Akka.Cluster: a node is Up while it is a member (Up, or Leaving/Exiting on its way out) that this
/// node's failure detector finds reachable; Down otherwise. Every node carries the role <c>node-&lt;id&gt;</c> beside
/// <c>replica</c>, which maps members to LsmRaft node ids. Raft never consults this (elections, CheckQuorum and leases
/// are Raft's own); the cluster view, the UI and the placement driver do.
/// </summary>
internal sealed class ClusterMembership : IAsyncDisposable
{
    /// <summary>The role every LsmRaft node has; the split-brain resolver counts only members with it.</summary>
    public const string ReplicaRole = "replica";

    private const string NodeRolePrefix = "node-";

    /// <summary>Membership's own threads (hocon/cluster.conf): probes are answered promptly while replicas start.</summary>
    private const string MembershipDispatcher = "lsmraft.membership-dispatcher";

    private readonly ActorSystem _system;
    private readonly Cluster _cluster;
    private readonly ulong _self;
    private readonly Action _changed;
    private readonly TimeProvider _time;
    private readonly DateTimeOffset _startedAt;
    private readonly IActorRef _watcher;
    private IActorRef? _bootstrap;
    private readonly object _gate = new();
    private Dictionary<UniqueAddress, (Member Member, bool Reachable)> _members = new();
    private IReadOnlySet<ulong> _up = new HashSet<ulong>();
    private readonly Dictionary<ulong, DateTimeOffset> _downSince = new();

    public ClusterMembership(ActorSystem system, ulong self, Action changed, TimeProvider time)
    {
        _system = system;
        _cluster = Cluster.Get(system);
        _self = self;
        _changed = changed;
        _time = time;
        _startedAt = time.GetUtcNow();
        _watcher = system.ActorOf(Props.Create(() => new MembershipWatcher(this)), "lsmraft-membership");
        // Downing removes this node and stops its actor system (run-coordinated-shutdown-when-down); either, while the
        // node is not stopping on its own, means the cluster put it out.
        _cluster.RegisterOnMemberRemoved(OnPutOut);
        system.WhenTerminated.ContinueWith(_ => OnPutOut(), TaskScheduler.Default);
    }

    /// <summary>The role naming node <paramref name="nodeId"/> (set in its HOCON by <c>AkkaConfig</c>).</summary>
    public static string NodeRole(ulong nodeId) => NodeRolePrefix + nodeId.ToString(CultureInfo.InvariantCulture);

    /// <summary>This node's own Akka address (its protocol names the transport adapters in use).</summary>
    public Address SelfAddress => _cluster.SelfAddress;

    /// <summary>
    /// True once the cluster downed this node (the split-brain resolver, or an operator's Akka down): its actor system is
    /// shutting down for that reason, and the node must exit. A node that stops on its own leaves instead: never Downed.
    /// </summary>
    public bool Downed => _downed || CoordinatedShutdown.Get(_system).ShutdownReason is CoordinatedShutdown.ClusterDowningReason;

    private volatile bool _downed;
    private volatile bool _leaving;

    private void OnPutOut()
    {
        if (!_leaving)
            _downed = true;
        _changed();
    }

    /// <summary>The node is stopping on its own: its removal from the cluster from now on is no downing.</summary>
    public void Leaving() => _leaving = true;

    /// <summary>
    /// Starts this node's bootstrap (<see cref="BootstrapActor"/>): it answers other nodes' probes, and finds the cluster
    /// to join or, with a majority of PEERS, forms it (<see cref="BootstrapRule"/>). Called once.
    /// </summary>
    public void StartBootstrap(BootstrapPlan plan, ILogger logger)
    {
        if (_bootstrap is not null)
            throw new InvalidOperationException("The cluster bootstrap of this node runs already.");
        _bootstrap = _system.ActorOf(Props.Create(() => new BootstrapActor(plan, logger, new Random())).WithDispatcher(MembershipDispatcher), BootstrapActor.Name);
    }

    public NodeState StateOf(ulong nodeId) =>
        nodeId == _self || Volatile.Read(ref _up).Contains(nodeId) ? NodeState.Up : NodeState.Down;

    /// <summary>Since when this node has not seen <paramref name="nodeId"/> up (at most since it started itself); null while it is up.</summary>
    public DateTimeOffset? DownSince(ulong nodeId)
    {
        if (StateOf(nodeId) == NodeState.Up)
            return null;
        lock (_gate)
            return _downSince.TryGetValue(nodeId, out var since) ? since : _startedAt;
    }

    /// <summary>The members as this node sees them, for diagnostics: address, status, reachability.</summary>
    public IReadOnlyList<string> Describe()
    {
        lock (_gate)
            return _members.Values.Select(m => $"{m.Member.Address} {m.Member.Status}{(m.Reachable ? "" : " unreachable")}").ToList();
    }

    private void Apply(Func<Dictionary<UniqueAddress, (Member Member, bool Reachable)>, Dictionary<UniqueAddress, (Member Member, bool Reachable)>> change)
    {
        lock (_gate)
        {
            _members = change(new Dictionary<UniqueAddress, (Member, bool)>(_members));
            var up = _members.Values
                .Where(m => m.Reachable && m.Member.Status is MemberStatus.Up or MemberStatus.WeaklyUp or MemberStatus.Leaving or MemberStatus.Exiting)
                .Select(m => NodeIdOf(m.Member))
                .OfType<ulong>()
                .ToHashSet();
            var now = _time.GetUtcNow();
            foreach (ulong id in up)
                _downSince.Remove(id);
            foreach (ulong id in Volatile.Read(ref _up).Except(up))
                _downSince[id] = now;
            Volatile.Write(ref _up, up);
        }
        _changed();
    }

    private static ulong? NodeIdOf(Member member)
    {
        foreach (var role in member.Roles)
            if (role.StartsWith(NodeRolePrefix, StringComparison.Ordinal) && ulong.TryParse(role.AsSpan(NodeRolePrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out ulong id))
                return id;
        return null;
    }

    public async ValueTask DisposeAsync()
    {
        await _watcher.GracefulStop(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        if (_bootstrap is not null)
            await _bootstrap.GracefulStop(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
    }

    /// <summary>Feeds cluster events into <see cref="ClusterMembership"/>.</summary>
    private sealed class MembershipWatcher : ReceiveActor
    {
        public MembershipWatcher(ClusterMembership owner)
        {
            Receive<ClusterEvent.CurrentClusterState>(state => owner.Apply(_ =>
                state.Members.ToDictionary(m => m.UniqueAddress, m => (m, !state.Unreachable.Contains(m)))));
            Receive<ClusterEvent.MemberRemoved>(e => owner.Apply(members =>
            {
                members.Remove(e.Member.UniqueAddress);
                return members;
            }));
            Receive<ClusterEvent.IMemberEvent>(e => owner.Apply(members =>
            {
                members[e.Member.UniqueAddress] = (e.Member, !members.TryGetValue(e.Member.UniqueAddress, out var known) || known.Reachable);
                return members;
            }));
            Receive<ClusterEvent.UnreachableMember>(e => owner.Apply(members => WithReachability(members, e.Member, reachable: false)));
            Receive<ClusterEvent.ReachableMember>(e => owner.Apply(members => WithReachability(members, e.Member, reachable: true)));
        }

        private static Dictionary<UniqueAddress, (Member Member, bool Reachable)> WithReachability(Dictionary<UniqueAddress, (Member Member, bool Reachable)> members, Member member, bool reachable)
        {
            members[member.UniqueAddress] = (members.TryGetValue(member.UniqueAddress, out var known) ? known.Member : member, reachable);
            return members;
        }

        protected override void PreStart() =>
            Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsSnapshot,
                typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.IReachabilityEvent));

        protected override void PostStop() => Cluster.Get(Context.System).Unsubscribe(Self);
    }
}
