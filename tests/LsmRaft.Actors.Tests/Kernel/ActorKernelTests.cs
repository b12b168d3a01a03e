using System.Collections.Concurrent;
using LsmRaft.Actors.Kernel;
using LsmRaft.Actors.Kernel.Testing;

namespace LsmRaft.Actors.Tests.Kernel;

public sealed class ActorKernelTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    private readonly ManualTimeProvider _time = new();
    private readonly ConcurrentQueue<(ActorLogLevel Level, string Text)> _log = new();
    private ActorSystem _system = null!;
    private TestProbe<string> _probe = null!;

    public Task InitializeAsync()
    {
        _system = NewSystem(SupervisorStrategy.Default);
        _probe = new TestProbe<string>(_system);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _system.DisposeAsync();

    [Fact]
    public async Task Messages_from_one_sender_are_processed_in_tell_order()
    {
        var actor = _system.Spawn("echo", () => new ScriptActor(_probe), mailboxCapacity: 2000);
        await _probe.ExpectMsgAsync(m => m == "start /user/echo", Deadline);
        for (int i = 0; i < 1000; i++)
            actor.Tell(i.ToString()).Should().BeTrue();
        for (int i = 0; i < 1000; i++)
        {
            string expected = $"/user/echo got {i}";
            await _probe.ExpectMsgAsync(m => m == expected, Deadline);
        }
    }

    [Fact]
    public async Task Tell_to_a_full_mailbox_returns_false_and_counts_a_dead_letter()
    {
        var gate = new TaskCompletionSource();
        var deadLetters = new ConcurrentQueue<DeadLetter>();
        _system.DeadLetters += deadLetters.Enqueue;
        var actor = _system.Spawn("slow", () => new ScriptActor(_probe, gate.Task), mailboxCapacity: 2);
        await _probe.ExpectMsgAsync(m => m == "start /user/slow", Deadline);

        actor.Tell("block").Should().BeTrue();
        await _probe.ExpectMsgAsync(m => m == "/user/slow blocked", Deadline);
        actor.Tell("a").Should().BeTrue();
        actor.Tell("b").Should().BeTrue();
        actor.Tell("c").Should().BeFalse("the mailbox holds two messages and the actor is busy");

        _system.DeadLetterCount.Should().Be(1);
        deadLetters.Should().ContainSingle().Which.Should().Be(new DeadLetter("/user/slow", "c", "mailbox full"));
        gate.SetResult();
        await _probe.ExpectMsgAsync(m => m == "/user/slow got a (count 2)", Deadline);
        await _probe.ExpectMsgAsync(m => m == "/user/slow got b (count 3)", Deadline);
    }

    [Fact]
    public async Task TellAsync_waits_for_mailbox_space_instead_of_dropping()
    {
        var gate = new TaskCompletionSource();
        var actor = _system.Spawn("slow", () => new ScriptActor(_probe, gate.Task), mailboxCapacity: 1);
        await _probe.ExpectMsgAsync(m => m == "start /user/slow", Deadline);
        actor.Tell("block");
        await _probe.ExpectMsgAsync(m => m == "/user/slow blocked", Deadline);
        actor.Tell("a").Should().BeTrue();

        var pending = actor.TellAsync("b").AsTask();
        pending.IsCompleted.Should().BeFalse();
        gate.SetResult();
        (await pending.WaitAsync(Deadline)).Should().BeTrue();
        await _probe.ExpectMsgAsync(m => m == "/user/slow got a (count 2)", Deadline);
        await _probe.ExpectMsgAsync(m => m == "/user/slow got b (count 3)", Deadline);
        _system.DeadLetterCount.Should().Be(0);
    }

    [Fact]
    public async Task Ask_returns_the_reply()
    {
        var actor = _system.Spawn<AskMessage>("answers", () => new AnswerActor());
        string reply = await actor.AskAsync<string>(r => new AskMessage("hello", r), TimeSpan.FromSeconds(1)).WaitAsync(Deadline);
        reply.Should().Be("HELLO");
    }

    [Fact]
    public async Task Ask_without_a_reply_throws_TimeoutException_when_the_clock_passes_the_timeout()
    {
        var actor = _system.Spawn<AskMessage>("answers", () => new AnswerActor());
        var ask = actor.AskAsync<string>(r => new AskMessage("ignore", r), TimeSpan.FromSeconds(2));
        await _system.WhenIdleAsync().WaitAsync(Deadline);
        _time.Advance(TimeSpan.FromSeconds(1.999));
        ask.IsCompleted.Should().BeFalse();
        _time.Advance(TimeSpan.FromMilliseconds(1));
        await FluentActions.Awaiting(() => ask.WaitAsync(Deadline)).Should().ThrowAsync<TimeoutException>().WithMessage("*/user/answers*");
    }

    [Fact]
    public async Task Ask_cancelled_by_the_caller_throws_OperationCanceledException()
    {
        var actor = _system.Spawn<AskMessage>("answers", () => new AnswerActor());
        using var cts = new CancellationTokenSource();
        var ask = actor.AskAsync<string>(r => new AskMessage("ignore", r), TimeSpan.FromSeconds(2), cts.Token);
        cts.Cancel();
        await FluentActions.Awaiting(() => ask.WaitAsync(Deadline)).Should().ThrowAsync<OperationCanceledException>();
    }

    [Fact]
    public async Task Restart_replaces_the_instance_after_exponential_backoff_and_keeps_the_mailbox()
    {
        await _system.DisposeAsync();
        _system = NewSystem(new SupervisorStrategy(_ => Directive.Restart)
        {
            MinBackoff = TimeSpan.FromMilliseconds(100),
            MaxBackoff = TimeSpan.FromMilliseconds(300),
            MaxRestarts = 10,
        });
        _probe = new TestProbe<string>(_system);
        var actor = _system.Spawn("flaky", () => new ScriptActor(_probe));
        await _probe.ExpectMsgAsync(m => m == "start /user/flaky", Deadline);
        actor.Tell("x");
        await _probe.ExpectMsgAsync(m => m == "/user/flaky got x (count 1)", Deadline);

        foreach (int backoffMs in new[] { 100, 200, 300, 300 })
        {
            actor.Tell("fail");
            actor.Tell("y"); // queued while the actor is suspended; must survive the restart
            await _probe.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(backoffMs - 1));
            _time.Advance(TimeSpan.FromMilliseconds(1));
            await _probe.ExpectMsgAsync(m => m == "stop /user/flaky", Deadline);
            await _probe.ExpectMsgAsync(m => m == "start /user/flaky", Deadline);
            await _probe.ExpectMsgAsync(m => m == "/user/flaky got y (count 1)", Deadline);
        }
    }

    [Fact]
    public async Task More_restarts_than_allowed_within_the_window_stop_the_actor()
    {
        await _system.DisposeAsync();
        _system = NewSystem(new SupervisorStrategy(_ => Directive.Restart) { MinBackoff = TimeSpan.Zero, MaxRestarts = 2, Window = TimeSpan.FromMinutes(1) });
        _probe = new TestProbe<string>(_system);
        var actor = _system.Spawn("flaky", () => new ScriptActor(_probe));
        await _probe.ExpectMsgAsync(m => m == "start /user/flaky", Deadline);
        for (int i = 0; i < 2; i++)
        {
            actor.Tell("fail");
            await _probe.ExpectMsgAsync(m => m == "stop /user/flaky", Deadline);
            await _probe.ExpectMsgAsync(m => m == "start /user/flaky", Deadline);
        }
        actor.Tell("fail");
        await _probe.ExpectMsgAsync(m => m == "stop /user/flaky", Deadline);
        await _system.WhenIdleAsync().WaitAsync(Deadline);
        actor.Tell("after").Should().BeFalse();
        _log.Should().Contain(l => l.Level == ActorLogLevel.Error && l.Text.Contains("exceeded 2 restarts"));
    }

    [Fact]
    public async Task Restarts_older_than_the_window_do_not_count()
    {
        await _system.DisposeAsync();
        _system = NewSystem(new SupervisorStrategy(_ => Directive.Restart) { MinBackoff = TimeSpan.Zero, MaxRestarts = 1, Window = TimeSpan.FromSeconds(10) });
        _probe = new TestProbe<string>(_system);
        var actor = _system.Spawn("flaky", () => new ScriptActor(_probe));
        await _probe.ExpectMsgAsync(m => m == "start /user/flaky", Deadline);
        for (int i = 0; i < 3; i++)
        {
            actor.Tell("fail");
            await _probe.ExpectMsgAsync(m => m == "stop /user/flaky", Deadline);
            await _probe.ExpectMsgAsync(m => m == "start /user/flaky", Deadline);
            _time.Advance(TimeSpan.FromSeconds(10));
        }
    }

    [Fact]
    public async Task Resume_keeps_the_instance_and_drops_only_the_failing_message()
    {
        await _system.DisposeAsync();
        _system = NewSystem(new SupervisorStrategy(_ => Directive.Resume));
        _probe = new TestProbe<string>(_system);
        var actor = _system.Spawn("sturdy", () => new ScriptActor(_probe));
        await _probe.ExpectMsgAsync(m => m == "start /user/sturdy", Deadline);
        actor.Tell("a");
        actor.Tell("fail");
        actor.Tell("b");
        await _probe.ExpectMsgAsync(m => m == "/user/sturdy got a (count 1)", Deadline);
        await _probe.ExpectMsgAsync(m => m == "/user/sturdy got b (count 3)", Deadline);
        await _probe.ExpectNoMsgAsync(TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task Stop_directive_stops_the_failing_actor_and_later_tells_become_dead_letters()
    {
        await _system.DisposeAsync();
        _system = NewSystem(new SupervisorStrategy(_ => Directive.Stop));
        _probe = new TestProbe<string>(_system);
        var actor = _system.Spawn("fragile", () => new ScriptActor(_probe));
        await _probe.ExpectMsgAsync(m => m == "start /user/fragile", Deadline);
        actor.Tell("fail");
        await _probe.ExpectMsgAsync(m => m == "stop /user/fragile", Deadline);
        await _system.WhenIdleAsync().WaitAsync(Deadline);
        actor.Tell("late").Should().BeFalse();
        _system.DeadLetterCount.Should().Be(1);
    }

    [Fact]
    public async Task Escalate_fails_the_parent_whose_supervisor_restarts_it_with_its_children()
    {
        var node = _system.Spawn("node", () => new ScriptActor(_probe, childStrategy: new SupervisorStrategy(_ => Directive.Escalate)));
        await _probe.ExpectMsgAsync(m => m == "start /user/node", Deadline);
        node.Tell("spawn replica-7");
        await ExpectInAnyOrderAsync("start /user/node/replica-7", "/user/node spawned replica-7");

        node.Tell("forward replica-7 fail");
        await _probe.ExpectNoMsgAsync(SupervisorStrategy.Default.MinBackoff - TimeSpan.FromTicks(1));
        _time.Advance(TimeSpan.FromTicks(1));
        await _probe.ExpectMsgAsync(m => m == "stop /user/node/replica-7", Deadline);
        await _probe.ExpectMsgAsync(m => m == "stop /user/node", Deadline);
        await _probe.ExpectMsgAsync(m => m == "start /user/node", Deadline);

        _log.Should().Contain(l => l.Level == ActorLogLevel.Error && l.Text.Contains("/user/node/replica-7 failed") && l.Text.Contains("boom"));
        _log.Should().Contain(l => l.Level == ActorLogLevel.Error && l.Text.Contains("/user/node failed") && l.Text.Contains("escalated"));
    }

    [Fact]
    public async Task Stopping_a_parent_stops_its_children_before_its_own_PostStop()
    {
        var parent = _system.Spawn("parent", () => new ScriptActor(_probe));
        await _probe.ExpectMsgAsync(m => m == "start /user/parent", Deadline);
        foreach (string child in new[] { "a", "b" })
        {
            parent.Tell("spawn " + child);
            await ExpectInAnyOrderAsync("start /user/parent/" + child, "/user/parent spawned " + child);
        }
        parent.Tell("forward a spawn grandchild");
        await ExpectInAnyOrderAsync("start /user/parent/a/grandchild", "/user/parent/a spawned grandchild");

        await _system.StopAsync(parent).WaitAsync(Deadline);

        var stops = new List<string>();
        for (int i = 0; i < 4; i++)
            stops.Add(await _probe.ExpectMsgAsync(m => m.StartsWith("stop "), Deadline));
        stops.Last().Should().Be("stop /user/parent");
        stops.IndexOf("stop /user/parent/a/grandchild").Should().BeLessThan(stops.IndexOf("stop /user/parent/a"));
        stops.Should().Contain("stop /user/parent/b");
    }

    [Fact]
    public async Task Context_stop_of_self_drains_the_mailbox_into_dead_letters()
    {
        var gate = new TaskCompletionSource();
        var actor = _system.Spawn("quitter", () => new ScriptActor(_probe, gate.Task));
        await _probe.ExpectMsgAsync(m => m == "start /user/quitter", Deadline);
        actor.Tell("block");
        await _probe.ExpectMsgAsync(m => m == "/user/quitter blocked", Deadline);
        actor.Tell("stop-self");
        actor.Tell("never-1");
        actor.Tell("never-2");
        gate.SetResult();
        await _probe.ExpectMsgAsync(m => m == "stop /user/quitter", Deadline);
        await _system.WhenIdleAsync().WaitAsync(Deadline);
        _system.DeadLetterCount.Should().Be(2);
    }

    [Fact]
    public async Task Paths_name_the_chain_of_parents_and_sibling_names_are_unique()
    {
        var node = _system.Spawn("node", () => new ScriptActor(_probe));
        await _probe.ExpectMsgAsync(m => m == "start /user/node", Deadline);
        node.Path.Should().Be("/user/node");
        node.Tell("spawn replica-7");
        await ExpectInAnyOrderAsync("start /user/node/replica-7", "/user/node spawned replica-7");
        node.Tell("spawn replica-7");
        await _probe.ExpectMsgAsync(m => m == "/user/node spawn failed: InvalidOperationException", Deadline);

        FluentActions.Invoking(() => _system.Spawn("node", () => new ScriptActor(_probe))).Should().Throw<InvalidOperationException>();
        FluentActions.Invoking(() => _system.Spawn("a/b", () => new ScriptActor(_probe))).Should().Throw<ArgumentException>();
    }

    [Fact]
    public async Task A_failure_is_logged_with_the_actor_path_and_the_exception()
    {
        var node = _system.Spawn("node", () => new ScriptActor(_probe, childStrategy: new SupervisorStrategy(_ => Directive.Resume)));
        await _probe.ExpectMsgAsync(m => m == "start /user/node", Deadline);
        node.Tell("spawn replica-7");
        await ExpectInAnyOrderAsync("start /user/node/replica-7", "/user/node spawned replica-7");
        node.Tell("forward replica-7 fail");
        await _system.WhenIdleAsync().WaitAsync(Deadline);
        _log.Should().Contain(l => l.Level == ActorLogLevel.Error
            && l.Text.Contains("Actor /user/node/replica-7 failed")
            && l.Text.Contains("InvalidOperationException")
            && l.Text.Contains("boom"));
        _log.Should().Contain(l => l.Level == ActorLogLevel.Warning && l.Text.Contains("Supervisor /user/node: Resume /user/node/replica-7"));
    }

    private async Task ExpectInAnyOrderAsync(params string[] expected)
    {
        var got = new List<string>();
        foreach (var _ in expected)
            got.Add(await _probe.ExpectMsgAsync(m => expected.Contains(m), Deadline));
        got.Should().BeEquivalentTo(expected);
    }

    private ActorSystem NewSystem(SupervisorStrategy guardianStrategy) => new(new ActorSystemOptions
    {
        Time = _time,
        Log = (level, text) => _log.Enqueue((level, text)),
        GuardianStrategy = guardianStrategy,
    });

    internal sealed record AskMessage(string Text, ReplyTo<string> Reply);

    private sealed class AnswerActor : Actor<AskMessage>
    {
        protected internal override ValueTask ReceiveAsync(AskMessage message, CancellationToken cancellationToken)
        {
            if (message.Text != "ignore")
                message.Reply.Reply(message.Text.ToUpperInvariant());
            return default;
        }
    }

    /// <summary>
    /// Reports its lifecycle to the probe and obeys text commands: "fail", "block" (waits on the gate),
    /// "spawn NAME", "forward NAME COMMAND", "stop-self"; anything else is echoed with a per-instance count.
    /// </summary>
    private sealed class ScriptActor(TestProbe<string> probe, Task? gate = null, SupervisorStrategy? childStrategy = null) : Actor<string>
    {
        private readonly Dictionary<string, ActorRef<string>> _children = [];
        private int _count;

        protected internal override SupervisorStrategy SupervisorStrategy => childStrategy ?? SupervisorStrategy.Default;

        protected internal override ValueTask PreStartAsync(CancellationToken cancellationToken)
        {
            probe.Tell("start " + Context.Path);
            return default;
        }

        protected internal override ValueTask PostStopAsync()
        {
            probe.Tell("stop " + Context.Path);
            return default;
        }

        protected internal override async ValueTask ReceiveAsync(string message, CancellationToken cancellationToken)
        {
            _count++;
            string[] parts = message.Split(' ', 3);
            switch (parts[0])
            {
                case "fail":
                    throw new InvalidOperationException("boom");
                case "block":
                    probe.Tell(Context.Path + " blocked");
                    await gate!;
                    return;
                case "stop-self":
                    Context.Stop(Context.Self);
                    return;
                case "spawn":
                    try
                    {
                        _children[parts[1]] = Context.SpawnChild(parts[1], () => new ScriptActor(probe));
                        probe.Tell($"{Context.Path} spawned {parts[1]}");
                    }
                    catch (InvalidOperationException)
                    {
                        probe.Tell($"{Context.Path} spawn failed: InvalidOperationException");
                    }
                    return;
                case "forward":
                    _children[parts[1]].Tell(parts[2]);
                    return;
                default:
                    probe.Tell(message.All(char.IsDigit)
                        ? $"{Context.Path} got {message}"
                        : $"{Context.Path} got {message} (count {_count})");
                    return;
            }
        }
    }
}
