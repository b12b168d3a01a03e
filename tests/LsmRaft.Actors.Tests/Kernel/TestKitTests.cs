using LsmRaft.Actors.Kernel;
using LsmRaft.Actors.Kernel.Testing;

namespace LsmRaft.Actors.Tests.Kernel;

public sealed class TestKitTests
{
    [Fact]
    public void ManualTimeProvider_fires_timers_in_due_order_only_when_advanced()
    {
        var time = new ManualTimeProvider();
        var start = time.GetUtcNow();
        var fired = new List<(string Name, TimeSpan At)>();
        using var late = time.CreateTimer(_ => fired.Add(("late", time.GetUtcNow() - start)), null, TimeSpan.FromSeconds(3), Timeout.InfiniteTimeSpan);
        using var periodic = time.CreateTimer(_ => fired.Add(("tick", time.GetUtcNow() - start)), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        using var cancelled = time.CreateTimer(_ => fired.Add(("cancelled", time.GetUtcNow() - start)), null, TimeSpan.FromSeconds(2), Timeout.InfiniteTimeSpan);
        cancelled.Dispose();

        time.Advance(TimeSpan.FromMilliseconds(999));
        fired.Should().BeEmpty();
        time.Advance(TimeSpan.FromSeconds(2.001));

        fired.Should().Equal(("tick", TimeSpan.FromSeconds(1)), ("tick", TimeSpan.FromSeconds(2)), ("late", TimeSpan.FromSeconds(3)), ("tick", TimeSpan.FromSeconds(3)));
        (time.GetUtcNow() - start).Should().Be(TimeSpan.FromSeconds(3));
        time.PendingTimers.Should().Be(1);
    }

    [Fact]
    public async Task ExpectNoMsgAsync_fails_when_a_message_is_waiting()
    {
        await using var system = new ActorSystem(new ActorSystemOptions { Time = new ManualTimeProvider() });
        var probe = new TestProbe<int>(system);
        probe.Tell(7);
        await FluentActions.Awaiting(() => probe.ExpectNoMsgAsync(TimeSpan.FromSeconds(1)))
            .Should().ThrowAsync<ProbeAssertionException>().WithMessage("*got 7*");
    }

    [Fact]
    public async Task ExpectMsgAsync_fails_on_a_message_that_does_not_match()
    {
        await using var system = new ActorSystem();
        var probe = new TestProbe<int>(system);
        probe.Tell(7);
        await FluentActions.Awaiting(() => probe.ExpectMsgAsync(m => m == 8, TimeSpan.FromSeconds(10)))
            .Should().ThrowAsync<ProbeAssertionException>();
    }
}
