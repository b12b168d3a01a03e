using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Configuration;
using LsmRaft.Actors.Replica;
using LsmRaft.Host.Config;
using LsmRaft.Host.Membership;
using LsmRaft.Host.Node;
using LsmRaft.Host.Sharding;
using LsmRaft.Tests.Shared;
using AkkaCluster = Akka.Cluster.Cluster;

namespace LsmRaft.Host.Tests.Sharding;

/// <summary>
/// One node's actor system as a node builds it (hocon/lsmraft.conf and cluster.conf, the authenticated transport, roles
/// <c>replica</c> and <c>node-&lt;id&gt;</c>), running the production replica region on a <see cref="RecordingReplicaHost"/>
/// instead of a node runtime: for placement tests without Raft. <c>serialize-messages</c> stays off, only because two of
/// Akka.NET 1.5.75's own local-only messages break under it (<see cref="SerializeMessagesAkkaLimitsTests"/>): cluster
/// member events lose Member.UpNumber through the JSON fallback, so nodes disagree on the oldest member and the shard
/// coordinator's singleton never hands over; DData's ReadRepair fails the JSON round trip and is dropped. Either way the
/// coordinator never allocates. No configuration avoids it (the check is global, those types cannot be bound to any
/// serializer but JSON). Our own messages do not depend on the check: the region's commands cross nodes on the wire here
/// (a start buffered on one node reaches another's region, a stop is sent from a third) through their bound serializer,
/// and every type of ours that crosses Akka.Remote is checked to bind to one of ours (<see cref="Membership.RemoteSerializerBindingTests"/>,
/// <see cref="ReplicaEntitySerializerTests"/>).
/// </summary>
internal sealed class ReplicaSystem : IAsyncDisposable
{
    private ReplicaSystem(ActorSystem system, ReplicaSharding sharding, RecordingReplicaHost host)
    {
        System = system;
        Sharding = sharding;
        Host = host;
    }

    public ActorSystem System { get; }

    public ReplicaSharding Sharding { get; }

    public RecordingReplicaHost Host { get; }

    public Address Address => AkkaCluster.Get(System).SelfAddress;

    /// <summary>Starts node <paramref name="nodeId"/> on a free loopback port; it joins <paramref name="seed"/>, or forms a cluster of its own without one.</summary>
    public static ReplicaSystem Start(ulong nodeId, Address? seed)
    {
        var config = new NodeConfig
        {
            PeerId = nodeId,
            AkkaPort = LoopbackPorts.Free(1)[0],
            BindAddress = "127.0.0.1",
            ClusterSecret = "test-cluster-secret-0123456789",
        };
        var hocon = ConfigurationFactory.ParseString(AkkaConfig.Overrides(config, debugLog: false))
            .WithFallback(ConfigurationFactory.ParseString(File.ReadAllText(AkkaConfig.MainFile)))
            .WithFallback(ConfigurationFactory.ParseString(File.ReadAllText(AkkaConfig.ClusterFile)));
        var system = ActorSystem.Create(AkkaConfig.SystemName(config.GroupId), BootstrapSetup.Create().WithConfig(hocon).And(new PeerKeySetup(config.PeerKey)));
        var sharding = new ReplicaSharding();
        var host = new RecordingReplicaHost();
        sharding.StartRegion(system);
        sharding.Attach(host);
        var cluster = AkkaCluster.Get(system);
        cluster.JoinSeedNodes([seed ?? cluster.SelfAddress]);
        return new ReplicaSystem(system, sharding, host);
    }

    /// <summary>The members this system sees up.</summary>
    public int UpMembers => AkkaCluster.Get(System).State.Members.Count(m => m.Status == Akka.Cluster.MemberStatus.Up);

    /// <summary>The members as this system sees them, for failure messages.</summary>
    public string Describe()
    {
        var state = AkkaCluster.Get(System).State;
        return $"node at {Address}: " + string.Join(", ", state.Members.Select(m => $"{m.Address.Port} {m.Status}{(state.Unreachable.Contains(m) ? " unreachable" : "")}")) +
            $"; refusals {Sharding.Allocation.Refusals}, opened [{string.Join(", ", Host.Opened)}]";
    }

    public async ValueTask DisposeAsync() => await System.Terminate().WaitAsync(TimeSpan.FromSeconds(30));
}

/// <summary>
/// An <see cref="IReplicaHost"/> that records what the region asks of it: every entity it is asked to open gets an idle
/// actor for a replica (placement is under test, not Raft), registered like a node registers a replica.
/// </summary>
internal sealed class RecordingReplicaHost : IReplicaHost
{
    public ConcurrentQueue<ReplicaEntityId> Opened { get; } = new();

    public ConcurrentDictionary<ulong, ReplicaHandle> Registered { get; } = new();

    public ConcurrentQueue<ulong> Unregistered { get; } = new();

    public ReplicaOpening Open(ulong group, ulong replica)
    {
        Opened.Enqueue(new ReplicaEntityId(group, replica));
        return new ReplicaOpening.Opened(Props.Create(() => new IdleReplica()), new ReplicaMonitor());
    }

    public bool Register(ReplicaHandle handle) => Registered.TryAdd(handle.GroupId, handle);

    public void Unregister(ReplicaHandle handle) => Unregistered.Enqueue(handle.GroupId);

    public void Refused(ulong group, ulong replica, string reason) => throw new InvalidOperationException($"unexpected refusal of {group}-{replica}: {reason}");

    private sealed class IdleReplica : ReceiveActor
    {
    }
}
