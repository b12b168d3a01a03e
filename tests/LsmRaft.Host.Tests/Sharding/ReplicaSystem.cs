using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Configuration;
using LsmRaft.Actors.Replica;
using LsmRaft.Host.Config;
using LsmRaft.Host.Membership;
using LsmRaft.Host.Membership.Bootstrap;
using LsmRaft.Host.Node;
using LsmRaft.Host.Sharding;
using LsmRaft.Tests.Shared;
using AkkaCluster = Akka.Cluster.Cluster;

namespace LsmRaft.Host.Tests.Sharding;

/// <summary>
/// One node's actor system as a node builds it (hocon/lsmraft.conf and cluster.conf, the authenticated transport, roles
/// <c>replica</c> and <c>node-&lt;id&gt;</c>), running the production replica region on a <see cref="RecordingReplicaHost"/>
/// instead of a node runtime: for placement tests without Raft. By default every message, local or remote, is checked
/// for serializability (<see cref="Verification"/>). The region's commands cross nodes on the wire here (a start buffered
/// on one node reaches another's region, a stop is sent from a third) through their bound serializer; that no type of
/// ours that crosses nodes resolves to JSON is <see cref="Membership.RemoteSerializerBindingTests"/>' job.
/// </summary>
internal sealed class ReplicaSystem : IAsyncDisposable
{
    private ReplicaSystem(ActorSystem system, ReplicaSharding sharding, RecordingReplicaHost host)
    {
        System = system;
        Sharding = sharding;
        Host = host;
    }

    /// <summary>
    /// <c>serialize-messages</c> on, plus what Akka.NET 1.5.75 needs to pass its own check: its local-only cluster events
    /// and DData's ReadRepair bind to no serializer, and the JSON fallback breaks them (<see cref="SerializeMessagesAkkaInternalsTests"/>:
    /// member events lose Member.UpNumber, so nodes disagree on the oldest member and the coordinator's singleton never
    /// hands over; ReadRepair fails and is dropped). Hyperion copies every field, so they survive the round trip. Only
    /// those Akka types are bound to it: every type of ours resolves as on a node. Nodes run with the check off, where
    /// these messages are never serialized.
    /// </summary>
    public const string Verification = """
        akka.actor.serialize-messages = on
        akka.actor.serializers.hyperion = "Akka.Serialization.HyperionSerializer, Akka.Serialization.Hyperion"
        akka.actor.serialization-bindings {
          "Akka.Cluster.ClusterEvent+IClusterDomainEvent, Akka.Cluster" = hyperion
          "Akka.DistributedData.Internal.ReadRepair, Akka.DistributedData" = hyperion
        }
        """;

    public ActorSystem System { get; }

    public ReplicaSharding Sharding { get; }

    public RecordingReplicaHost Host { get; }

    public Address Address => AkkaCluster.Get(System).SelfAddress;

    /// <summary>Starts node <paramref name="nodeId"/> on a free loopback port; it joins <paramref name="seed"/>, or forms a cluster of its own without one.</summary>
    /// <param name="verifyMessages">False: exactly a node's configuration, without <see cref="Verification"/>.</param>
    /// <param name="akkaPort">The Akka.Remote port; null: a free one.</param>
    public static ReplicaSystem Start(ulong nodeId, Address? seed, bool verifyMessages = true, int? akkaPort = null)
    {
        var node = Create(nodeId, akkaPort ?? LoopbackPorts.Free(1)[0], verifyMessages);
        var cluster = AkkaCluster.Get(node.System);
        cluster.JoinSeedNodes([seed ?? cluster.SelfAddress]);
        return node;
    }

    /// <summary>
    /// Starts node <paramref name="nodeId"/> of PEERS <paramref name="akkaPorts"/> (node id → Akka port on loopback) on its
    /// port, finding or forming the cluster as a node does: through the production bootstrap (<see cref="ClusterMembership.StartBootstrap"/>).
    /// </summary>
    public static ReplicaSystem StartInPeers(ulong nodeId, IReadOnlyDictionary<ulong, int> akkaPorts)
    {
        var node = Create(nodeId, akkaPorts[nodeId], verifyMessages: true);
        var membership = new ClusterMembership(node.System, nodeId, () => { }, TimeProvider.System);
        var contacts = akkaPorts.Where(p => p.Key != nodeId).Select(p => ("127.0.0.1", p.Value)).ToList();
        var plan = new BootstrapPlan(nodeId, akkaPorts.Keys.ToHashSet(), MayForm: true, contacts, BootstrapSettings.From(node.System.Settings.Config));
        membership.StartBootstrap(plan, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        return node;
    }

    private static ReplicaSystem Create(ulong nodeId, int akkaPort, bool verifyMessages)
    {
        var config = new NodeConfig
        {
            PeerId = nodeId,
            AkkaPort = akkaPort,
            BindAddress = "127.0.0.1",
            ClusterSecret = "test-cluster-secret-0123456789",
        };
        var hocon = ConfigurationFactory.ParseString(verifyMessages ? Verification : "")
            .WithFallback(ConfigurationFactory.ParseString(AkkaConfig.Overrides(config, debugLog: false)))
            .WithFallback(ConfigurationFactory.ParseString(File.ReadAllText(AkkaConfig.MainFile)))
            .WithFallback(ConfigurationFactory.ParseString(File.ReadAllText(AkkaConfig.ClusterFile)));
        var system = ActorSystem.Create(AkkaConfig.SystemName(config.GroupId), BootstrapSetup.Create().WithConfig(hocon).And(new PeerKeySetup(config.PeerKey)));
        var sharding = new ReplicaSharding();
        var host = new RecordingReplicaHost();
        sharding.StartRegion(system);
        sharding.Attach(host);
        return new ReplicaSystem(system, sharding, host);
    }

    /// <summary>The members this system sees, as node ids (roles <c>node-&lt;id&gt;</c>) with their status.</summary>
    public IReadOnlyDictionary<ulong, Akka.Cluster.MemberStatus> Members =>
        AkkaCluster.Get(System).State.Members.ToDictionary(
            m => ulong.Parse(m.Roles.Single(r => r.StartsWith("node-", StringComparison.Ordinal))["node-".Length..], global::System.Globalization.CultureInfo.InvariantCulture),
            m => m.Status);

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
