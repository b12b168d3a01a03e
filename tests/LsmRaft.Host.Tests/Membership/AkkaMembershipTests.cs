using Akka.Actor;
using Akka.Actor.Setup;
using AkkaCluster = Akka.Cluster.Cluster;
using Akka.Configuration;
using LsmRaft.Host.Config;
using LsmRaft.Host.Membership;
using LsmRaft.Host.Node;
using LsmRaft.Host.Tests.Cluster;
using LsmRaft.Protocol.Cluster;
using LsmRaft.Tests.Shared;
using Microsoft.Extensions.DependencyInjection;

namespace LsmRaft.Host.Tests.Membership;

/// <summary>Nodes form an Akka cluster on their Akka ports; strangers are kept out.</summary>
public sealed class AkkaMembershipTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task The_akka_port_refuses_a_stranger_with_the_wrong_secret_and_a_node_of_another_group()
    {
        await using var cluster = await InProcessCluster.StartAsync(2, shardsPerNode: 1);
        await cluster.WaitUntilAsync(1, r => r.LivenessOf(2, DateTimeOffset.UtcNow) == NodeState.Up, Deadline, "node 2 is an up member");
        var node1 = cluster.Services(1).GetRequiredService<ActorSystem>();
        var refusals = new TaskCompletionSource<AssociationRefused>(TaskCreationOptions.RunContinuationsAsynchronously);
        var listener = node1.ActorOf(Props.Create(() => new Forward<AssociationRefused>(refusals)));
        node1.EventStream.Subscribe(listener, typeof(AssociationRefused));
        var seed = AkkaCluster.Get(node1).SelfAddress;
        var template = cluster.Configs[0];

        // The right group id, the wrong secret: the handshake fails on node 1's side before Akka sees the connection.
        var wrongSecret = Stranger(template with { ClusterSecret = "not-the-cluster-secret-at-all" }, template.GroupId, seed);
        var refused = await refusals.Task.WaitAsync(Deadline);
        refused.Inbound.Should().BeTrue();
        refused.Reason.Should().Contain("does not prove the cluster secret");
        (await wrongSecret.WhenTerminated.WaitAsync(Deadline).ContinueWith(t => t.IsCompletedSuccessfully)).Should().BeTrue("it gives up joining");

        // The right secret, another group id: the handshake passes, but Akka drops everything addressed to another system name.
        var otherGroup = Stranger(template, "another-group", seed);
        (await otherGroup.WhenTerminated.WaitAsync(Deadline).ContinueWith(t => t.IsCompletedSuccessfully)).Should().BeTrue("it gives up joining");

        AkkaCluster.Get(node1).State.Members.Select(m => m.Address).Should().BeEquivalentTo(
            new[] { seed, AkkaCluster.Get(cluster.Services(2).GetRequiredService<ActorSystem>()).SelfAddress }, "no stranger became a member");
        cluster.Runtime(1).BuildClusterView().Nodes.Should().OnlyContain(n => n.State == NodeState.Up);
    }

    /// <summary>An actor system built as a node builds its own, with <paramref name="config"/>'s key, that tries to join <paramref name="seed"/> and gives up after 5 s.</summary>
    private static ActorSystem Stranger(NodeConfig config, string groupId, Address seed)
    {
        var port = LoopbackPorts.Free(1)[0];
        var own = config with { PeerId = 99, Peers = [], AkkaPort = port, GroupId = groupId };
        var hocon = ConfigurationFactory.ParseString(AkkaConfig.Overrides(own, debugLog: false) + "\nakka.cluster.shutdown-after-unsuccessful-join-seed-nodes = 5s")
            .WithFallback(ConfigurationFactory.ParseString(File.ReadAllText(AkkaConfig.MainFile)))
            .WithFallback(ConfigurationFactory.ParseString(File.ReadAllText(AkkaConfig.ClusterFile)));
        var system = ActorSystem.Create(AkkaConfig.SystemName(groupId), BootstrapSetup.Create().WithConfig(hocon).And(new PeerKeySetup(own.PeerKey)));
        var self = AkkaCluster.Get(system).SelfAddress;
        AkkaCluster.Get(system).JoinSeedNodes([new Address(self.Protocol, self.System, seed.Host!, seed.Port!.Value)]);
        return system;
    }

    private sealed class Forward<T> : ReceiveActor
    {
        public Forward(TaskCompletionSource<T> target) => Receive<T>(m => target.TrySetResult(m));
    }
}
