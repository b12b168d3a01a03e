using Akka.Actor;
using Akka.Actor.Setup;
using AkkaCluster = Akka.Cluster.Cluster;
using Akka.Configuration;
using LsmRaft.Host.Cli;
using LsmRaft.Host.Config;
using LsmRaft.Host.Membership;
using LsmRaft.Host.Node;
using LsmRaft.Host.Tests.Cluster;
using LsmRaft.Protocol.Cluster;
using LsmRaft.Tests.Shared;
using Microsoft.Extensions.DependencyInjection;

namespace LsmRaft.Host.Tests.Membership;

/// <summary>Nodes form an Akka cluster on their Akka ports; strangers are kept out; a downed node exits.</summary>
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

    /// <remarks>
    /// An earlier version stopped node 3 and restarted it on the same address (so that the cluster saw a new incarnation
    /// join beside the leaving one) and let its run's deadline token be disposed with the test: when it failed, the node
    /// kept running in the test process for good. This one starts node 3 once, through <c>RunAsync</c>, and always stops it.
    /// </remarks>
    [Fact]
    public async Task A_node_downed_by_the_cluster_stops_and_start_exits_with_code_6()
    {
        await using var cluster = await InProcessCluster.StartAsync(3, shardsPerNode: 1, notStarted: [3]);
        var errors = new StringWriter();
        using var stop = new CancellationTokenSource();
        var run = Task.Run(() => new NodeRunner().RunAsync(cluster.Configs[2], TextWriter.Null, TextWriter.Synchronized(errors), stop.Token));
        try
        {
            await cluster.WaitUntilAsync(1, r => r.LivenessOf(3, DateTimeOffset.UtcNow) == NodeState.Up, Deadline, "node 3 is an up member");

            // An operator's down (Akka's `Cluster.Down`), which the node cannot tell from the split-brain resolver's.
            var node1 = AkkaCluster.Get(cluster.Services(1).GetRequiredService<ActorSystem>());
            node1.Down(node1.State.Members.Single(m => m.Roles.Contains(ClusterMembership.NodeRole(3))).Address);

            (await run.WaitAsync(Deadline)).Should().Be(ExitCodes.Downed);
            stop.IsCancellationRequested.Should().BeFalse("the node exits on its own");
            errors.ToString().Should().Contain("node 3 was downed by the cluster");
            await cluster.WaitUntilAsync(1, r => r.LivenessOf(3, DateTimeOffset.UtcNow) == NodeState.Down, Deadline, "node 3 is down");
        }
        finally
        {
            stop.Cancel();
            await run.WaitAsync(Deadline).ContinueWith(_ => { }, TaskScheduler.Default);
        }
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
