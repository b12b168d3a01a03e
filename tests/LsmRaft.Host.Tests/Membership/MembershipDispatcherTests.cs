using Akka.Actor;
using Akka.Configuration;
using LsmRaft.Host.Node;

namespace LsmRaft.Host.Tests.Membership;

/// <summary>
/// Cluster membership (heartbeats, gossip, the split-brain resolver) and the remote endpoints run on threads of their own,
/// not on the .NET thread pool that replica work can fill: a node starting thousands of replicas must still answer
/// heartbeats, or the resolver downs healthy nodes (hocon/cluster.conf, lsmraft.membership-dispatcher).
/// </summary>
public sealed class MembershipDispatcherTests
{
    private static Akka.Configuration.Config NodeHocon() =>
        ConfigurationFactory.ParseString(File.ReadAllText(AkkaConfig.MainFile))
            .WithFallback(ConfigurationFactory.ParseString(File.ReadAllText(AkkaConfig.ClusterFile)));

    [Fact]
    public void The_cluster_and_the_remote_endpoints_use_the_membership_dispatcher()
    {
        // The keys ClusterSettings.UseDispatcher and RemoteSettings.Dispatcher read (empty would mean Akka's pool-backed default).
        var config = NodeHocon();
        config.GetString("akka.cluster.use-dispatcher").Should().Be("lsmraft.membership-dispatcher");
        config.GetString("akka.remote.use-dispatcher").Should().Be("lsmraft.membership-dispatcher");
    }

    [Fact]
    public async Task The_membership_dispatcher_runs_actors_on_dedicated_threads_not_the_thread_pool()
    {
        // A local actor system with the node's HOCON: the dispatcher is resolved exactly as the cluster daemon resolves it.
        var config = ConfigurationFactory.ParseString("akka.actor.provider = local").WithFallback(NodeHocon());
        using var system = ActorSystem.Create("membership-dispatcher", config);
        try
        {
            var probe = system.ActorOf(Props.Create(() => new ThreadReporter()).WithDispatcher("lsmraft.membership-dispatcher"));
            var answer = await probe.Ask<(bool PoolThread, bool Background)>("which thread?", TimeSpan.FromSeconds(10));
            answer.PoolThread.Should().BeFalse("membership must not queue behind replica work on the .NET thread pool");
            answer.Background.Should().BeTrue("the dedicated threads must not keep a stopping process alive");
        }
        finally
        {
            await system.Terminate();
        }
    }

    private sealed class ThreadReporter : ReceiveActor
    {
        public ThreadReporter() =>
            Receive<string>(_ => Sender.Tell((Thread.CurrentThread.IsThreadPoolThread, Thread.CurrentThread.IsBackground)));
    }
}
