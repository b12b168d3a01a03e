using LsmRaft.Actors.Replica;

namespace LsmRaft.Actors.Tests.Replica;

public sealed class InFlightLimitTests
{
    [Fact]
    public void Entering_past_the_limit_is_refused_until_one_exits()
    {
        var limit = new InFlightLimit(2);

        limit.TryEnter().Should().BeTrue();
        limit.TryEnter().Should().BeTrue();
        limit.TryEnter().Should().BeFalse("two are in flight already");
        limit.InFlight.Should().Be(2, "a refused entry leaves no trace");

        limit.Exit();
        limit.TryEnter().Should().BeTrue();
    }

    [Fact]
    public void A_limit_below_one_is_refused()
    {
        var act = () => new InFlightLimit(0);

        act.Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void A_replicas_request_bound_defaults_to_the_size_of_its_old_mailbox()
    {
        new ReplicaMonitor().MaxInFlightRequests.Should().Be(1024);
    }
}
