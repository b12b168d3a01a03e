using LsmRaft.Actors.Replica;
using LsmRaft.Protocol.Cluster;
using LsmRaft.Raft;

namespace LsmRaft.Actors.Tests.Replica;

/// <summary>
/// The Ready rules of <see cref="ReplicaShell"/>, driven by hand: writes complete only when a test says so, so
/// every ordering is pinned down without threads or clocks.
/// </summary>
public sealed class ReplicaShellTests
{
    private static readonly ulong[] Voters = [1, 2, 3];

    [Fact]
    public void A_candidates_vote_requests_leave_only_after_its_vote_is_durable()
    {
        var (shell, effects) = NewShell(pipelined: true);

        shell.Node.Campaign();
        shell.Drain();

        effects.Writes.Should().ContainSingle().Which.Ready.HardState!.Value.Vote.Should().Be(1);
        effects.Sent.Should().BeEmpty("a vote must be on disk before anyone hears of it");

        effects.CompleteOldest(shell);

        effects.Sent.Where(m => m.Type == MessageType.Vote).Select(m => m.To).Should().BeEquivalentTo([2UL, 3UL]);
    }

    [Fact]
    public void A_leader_whose_term_and_vote_are_durable_sends_its_appends_before_its_own_write()
    {
        var (shell, effects) = NewShell(pipelined: true);
        ElectLeader(shell, effects);
        effects.Sent.Clear();

        shell.Node.Propose([42]).IsOk.Should().BeTrue();
        shell.Drain();

        var write = effects.Writes.Should().ContainSingle().Subject;
        write.IsDone.Should().BeFalse();
        write.Ready.Entries.Should().ContainSingle(e => e.Data.Length == 1 && e.Data[0] == 42);
        effects.Sent.Where(m => m.Type == MessageType.App).Select(m => m.To).Should().BeEquivalentTo([2UL, 3UL], "the leader's appends leave while its own fsync runs");
    }

    [Fact]
    public void A_new_leader_does_not_send_early_while_the_vote_that_elected_it_is_not_durable()
    {
        var (shell, effects) = NewShell(pipelined: true);
        shell.Node.Campaign();
        shell.Drain();
        var voteWrite = effects.Writes.Dequeue();
        shell.Node.Step(new Message { Type = MessageType.VoteResp, From = 2, To = 1, Term = 1 });
        shell.Node.Role.Should().Be(RaftRole.Leader);

        shell.Drain();

        effects.Writes.Should().ContainSingle("the leader's first entry is written while the vote's write is in flight");
        effects.Sent.Should().BeEmpty("the term and vote it handed out are not durable yet");

        voteWrite.MarkDone(null);
        shell.CompleteDurable();
        effects.Sent.Should().Contain(m => m.Type == MessageType.Vote, "the vote requests leave once the vote is durable");
        effects.Sent.Should().NotContain(m => m.Type == MessageType.App, "the append's own write is still in flight");

        effects.CompleteOldest(shell);
        effects.Sent.Where(m => m.Type == MessageType.App).Select(m => m.To).Should().BeEquivalentTo([2UL, 3UL]);
    }

    [Fact]
    public void Readies_complete_and_advance_in_the_order_they_were_taken()
    {
        var (shell, effects) = NewShell(pipelined: true);
        shell.Node.Campaign();
        shell.Drain();
        shell.Node.Step(new Message { Type = MessageType.VoteResp, From = 2, To = 1, Term = 1 });
        shell.Drain();
        var first = effects.Writes.Dequeue();
        var second = effects.Writes.Dequeue();

        second.MarkDone(null);
        shell.CompleteDurable();
        effects.Completed.Should().BeEmpty("the older write is still in flight");
        shell.InFlight.Should().Be(2);

        first.MarkDone(null);
        shell.CompleteDurable();
        effects.Completed.Should().Equal(first.Ready, second.Ready);
        shell.InFlight.Should().Be(0);
    }

    [Fact]
    public void Pipelined_readies_stop_at_the_in_flight_limit()
    {
        var (shell, effects) = NewShell(pipelined: true, maxInFlight: 2);
        ElectLeader(shell, effects);

        for (var i = 0; i < 3; i++)
        {
            shell.Node.Propose([(byte)i]);
            shell.Drain();
        }

        effects.Writes.Should().HaveCount(2);
        shell.Node.HasReady().Should().BeTrue("the third proposal waits for a slot");

        effects.CompleteOldest(shell);
        shell.Drain();
        effects.Writes.Should().HaveCount(2);
    }

    [Fact]
    public void Not_pipelined_committed_entries_are_applied_only_after_the_write_is_durable()
    {
        var (shell, effects) = NewShell(pipelined: false);
        ElectLeader(shell, effects);
        shell.Node.Propose([7]);
        shell.Drain();
        effects.CompleteOldest(shell);
        var index = shell.Node.Status().LastIndex;

        // The acknowledgement commits entry 7 while entry 8 makes the same Ready need a write.
        shell.Node.Step(new Message { Type = MessageType.AppResp, From = 2, To = 1, Term = 1, Index = index });
        shell.Node.Propose([8]);
        shell.Drain();
        effects.Writes.Should().ContainSingle().Which.Ready.CommittedEntries.Should().Contain(e => e.Index == index);
        effects.Applied.Should().NotContain(e => e.Index == index);

        effects.CompleteOldest(shell);
        effects.Applied.Should().Contain(e => e.Index == index);
    }

    [Fact]
    public void A_failed_write_stops_the_shell_with_an_error_naming_the_replica()
    {
        var (shell, effects) = NewShell(pipelined: true);
        shell.Node.Campaign();
        shell.Drain();
        effects.Writes.Dequeue().MarkDone(new IOException("disk full"));

        var act = shell.CompleteDurable;

        act.Should().Throw<IOException>().WithMessage("group 9: writing the Raft log failed.").WithInnerException<IOException>().WithMessage("disk full");
        effects.Sent.Should().BeEmpty("nothing a failed write vouches for may leave");
    }

    [Fact]
    public void A_message_addressed_to_another_incarnation_of_the_replica_is_dropped()
    {
        // Node 3 held the group's replica 3 (incarnation 0), which was removed; the replica now there is 3#1. The
        // leader's late heartbeat to the retired replica must not reach the new one (docs/raft.md, "Replica identity").
        ulong self = new ReplicaId(3, 1).Value;
        var config = new RaftConfig { Id = self, ElectionTicks = 10, HeartbeatTicks = 1, Random = new Random(1) };
        var storage = new MemoryRaftStorage(new ConfState([1, 2], [self]));
        var shell = new ReplicaShell("group 9", config, storage, new RecordingEffects(storage), maxInFlight: 1);

        shell.Deliver(new Message { Type = MessageType.Heartbeat, From = 1, To = 3, Term = 5 }).Should().BeFalse();
        shell.Node.Term.Should().Be(0, "the message was for the retired incarnation 3");

        shell.Deliver(new Message { Type = MessageType.Heartbeat, From = 1, To = self, Term = 5 }).Should().BeTrue();
        shell.Node.Term.Should().Be(5);
        shell.Node.Lead.Should().Be(1);
    }

    private static (ReplicaShell Shell, RecordingEffects Effects) NewShell(bool pipelined, int maxInFlight = 8)
    {
        var config = new RaftConfig
        {
            Id = 1,
            ElectionTicks = 10,
            HeartbeatTicks = 1,
            AsyncLeaderPersist = true,
            PipelinedReadies = pipelined,
            Random = new Random(1),
        };
        var storage = new MemoryRaftStorage(new ConfState(Voters, []));
        var effects = new RecordingEffects(storage);
        return (new ReplicaShell("group 9", config, storage, effects, maxInFlight), effects);
    }

    /// <summary>Node 1 wins term 1, both followers hold its first entry, and every write so far is durable.</summary>
    private static void ElectLeader(ReplicaShell shell, RecordingEffects effects)
    {
        shell.Node.Campaign();
        shell.Drain();
        shell.Node.Step(new Message { Type = MessageType.VoteResp, From = 2, To = 1, Term = 1 });
        CompleteAll(shell, effects);
        var first = shell.Node.Status().LastIndex;
        shell.Node.Step(new Message { Type = MessageType.AppResp, From = 2, To = 1, Term = 1, Index = first });
        shell.Node.Step(new Message { Type = MessageType.AppResp, From = 3, To = 1, Term = 1, Index = first });
        CompleteAll(shell, effects);

        shell.Node.Role.Should().Be(RaftRole.Leader);
        shell.Node.Committed.Should().Be(first);
    }

    private static void CompleteAll(ReplicaShell shell, RecordingEffects effects)
    {
        shell.Drain();
        while (effects.Writes.Count > 0)
        {
            effects.CompleteOldest(shell);
            shell.Drain();
        }
    }

    /// <summary>Writes go to a memory log at once and stay pending until the test completes them.</summary>
    private sealed class RecordingEffects(MemoryRaftStorage storage) : IReadyEffects
    {
        public Queue<ReadyWrite> Writes { get; } = new();

        public List<Message> Sent { get; } = [];

        public List<Entry> Applied { get; } = [];

        public List<Ready> Completed { get; } = [];

        public void CompleteOldest(ReplicaShell shell)
        {
            Writes.Dequeue().MarkDone(null);
            shell.CompleteDurable();
        }

        void IReadyEffects.Taken(Ready ready)
        {
        }

        bool IReadyEffects.BeginWrite(ReadyWrite write)
        {
            storage.Append(write.Ready.Entries);
            if (write.Ready.HardState is { } hard)
            {
                storage.SetHardState(hard);
            }

            if (!write.Ready.MustSync)
            {
                return true;
            }

            Writes.Enqueue(write);
            return false;
        }

        void IReadyEffects.Send(IReadOnlyList<Message> messages) => Sent.AddRange(messages);

        void IReadyEffects.Apply(IReadOnlyList<Entry> committed) => Applied.AddRange(committed);

        void IReadyEffects.Completed(Ready ready) => Completed.Add(ready);
    }
}
