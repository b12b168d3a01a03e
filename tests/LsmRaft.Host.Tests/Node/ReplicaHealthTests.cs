using LsmRaft.Actors.Replica;
using LsmRaft.Host.Node;
using LsmRaft.Host.Tests.Support;
using LsmRaft.Storage;

namespace LsmRaft.Host.Tests.Node;

public sealed class ReplicaHealthTests
{
    [Fact]
    public void A_restart_loop_logs_nothing_and_the_final_stop_names_its_cause_in_one_error()
    {
        var sink = new LogSink();
        var health = new ReplicaHealth(7, new ChangeSignal(), sink.CreateLogger("test"), TimeProvider.System);
        for (int i = 0; i < 5; i++)
            health.StorageFailed(3, new IOException("disk gone"));
        health.Of(3).Should().BeEquivalentTo(new { Open = false, Failures = 5, Stopped = (Exception?)null });
        sink.Entries.Should().BeEmpty("each failed attempt is a debug line at most");

        health.ReplicaStopped(3, new IOException("disk gone", new UnauthorizedAccessException("permission denied on /data")));
        sink.Entries.Should().ContainSingle().Which.Should().Match<(LogLevel Level, string Message, Exception? Exception)>(e =>
            e.Level == LogLevel.Error && e.Message.Contains("Group 3") && e.Message.Contains("disk gone (permission denied on /data)"));
        health.Failed().Should().ContainSingle().Which.Should().BeEquivalentTo(new { GroupId = 3UL, NodeId = 7UL, Failures = 5, Cause = "disk gone (permission denied on /data)" });
    }

    [Fact]
    public void A_replica_that_opens_again_or_is_forgotten_is_no_longer_failing()
    {
        var health = new ReplicaHealth(1, new ChangeSignal(), new LogSink().CreateLogger("test"), TimeProvider.System);
        health.StorageFailed(1, new IOException("busy"));
        health.StorageOpened(1);
        health.Of(1).Should().BeEquivalentTo(new { Open = true, Failures = 0 });

        health.ReplicaStopped(2, new InvalidOptionException("FlushThresholdBytes", "too small"));
        health.Failed().Should().ContainSingle();
        health.Forget(2);
        health.Failed().Should().BeEmpty();
        health.Of(2).Should().BeNull();
    }
}
