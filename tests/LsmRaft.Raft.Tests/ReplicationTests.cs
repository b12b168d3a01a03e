using LsmRaft.Raft;
using static LsmRaft.Raft.Tests.RaftTestKit;

namespace LsmRaft.Raft.Tests;

/// <summary>Log replication and commitment rules (Raft §5.3, §5.4.2).</summary>
public sealed class ReplicationTests
{
    [Fact]
    public void Follower_rejects_append_when_log_does_not_contain_prev_entry()
    {
        var storage = StorageWith([1, 2, 3], new HardState(2, 0, 0), E(1, 1), E(2, 2));
        var (node, _) = NewNode(2, [1, 2, 3], storage: storage);

        node.Step(Msg(MessageType.App, 1, 2, term: 2, logTerm: 2, index: 3, entries: E(2, 4)));
        var missing = DrainMessages(node, storage).Single();
        missing.Reject.Should().BeTrue("index 3 is past our log");
        missing.RejectHint.Should().Be(2);

        node.Step(Msg(MessageType.App, 1, 2, term: 2, logTerm: 1, index: 2, entries: E(2, 3)));
        var mismatch = DrainMessages(node, storage).Single();
        mismatch.Reject.Should().BeTrue("our entry 2 has term 2, not 1");
        (mismatch.RejectHint, mismatch.LogTerm).Should().Be((1UL, 1UL), "the hint is the last index whose term is at most 1");
        storage.LastIndex().Should().Be(2);
    }

    [Fact]
    public void Follower_deletes_conflicting_entries_and_keeps_matching_ones()
    {
        var storage = StorageWith([1, 2, 3], new HardState(1, 0, 1), E(1, 1), E(1, 2, "old2"), E(1, 3, "old3"));
        var (node, _) = NewNode(2, [1, 2, 3], storage: storage);

        node.Step(Msg(MessageType.App, 1, 2, term: 2, logTerm: 1, index: 1, commit: 1, entries: [E(1, 2, "old2"), E(2, 3, "new3"), E(2, 4, "new4")]));
        var rd = Drain(node, storage);
        rd.Entries.Select(e => e.Index).Should().Equal(3UL, 4UL);
        StoredLogText(storage).Should().Equal("1/1:", "1/2:old2", "2/3:new3", "2/4:new4");
        rd.Messages.Single().Index.Should().Be(4);
    }

    [Fact]
    public void Follower_commit_index_is_the_minimum_of_leader_commit_and_its_last_new_entry()
    {
        var (node, storage) = NewNode(2, [1, 2, 3]);
        node.Step(Msg(MessageType.App, 1, 2, term: 1, commit: 5, entries: [E(1, 1), E(1, 2)]));
        Drain(node, storage).HardState!.Value.Commit.Should().Be(2, "entries beyond 2 were not in this message; they may differ from the leader's");
    }

    [Fact]
    public void Leader_commits_entry_once_replicated_on_a_majority_and_tells_followers()
    {
        var env = ClusterWithLeader(5);
        env.Handle("isolate 4");
        env.Handle("isolate 5");
        env.Handle("propose 1 x");
        env.Handle("stabilize");
        env.Nodes[1].Raft.Status().HardState.Commit.Should().Be(2, "3 of 5 is a majority");
        env.Nodes[2].State.Should().Equal("x");
        env.Nodes[3].State.Should().Equal("x");
        env.Nodes[4].State.Should().BeEmpty();
    }

    [Fact]
    public void Leader_does_not_commit_without_a_majority()
    {
        var env = ClusterWithLeader(5);
        env.Handle("isolate 3");
        env.Handle("isolate 4");
        env.Handle("isolate 5");
        env.Handle("propose 1 x");
        env.Handle("stabilize");
        env.Nodes[1].Raft.Status().HardState.Commit.Should().Be(1);
        env.Nodes[1].State.Should().BeEmpty();
    }

    [Fact]
    public void Leader_commits_only_entries_from_its_current_term_by_counting_replicas()
    {
        // Figure 8: node 1 restarts with an entry of term 2 that a majority will hold; as leader of term 3 it
        // must not commit it by counting replicas, only together with an entry of term 3.
        var storage = StorageWith([1, 2, 3], new HardState(2, 0, 1), E(1, 1), E(2, 2, "t2"));
        var (leader, _) = NewNode(1, [1, 2, 3], storage: storage);
        leader.Campaign();
        Drain(leader, storage);
        leader.Step(Msg(MessageType.VoteResp, 2, 1, term: 3));
        leader.Role.Should().Be(RaftRole.Leader);
        Drain(leader, storage);

        leader.Step(Msg(MessageType.AppResp, 2, 1, term: 3, index: 2));
        leader.Status().HardState.Commit.Should().Be(1, "entry 2 is on a majority but from term 2");

        leader.Step(Msg(MessageType.AppResp, 2, 1, term: 3, index: 3));
        leader.Status().HardState.Commit.Should().Be(3, "the term-3 entry commits, and with it entry 2");
    }

    [Fact]
    public void Leader_never_overwrites_or_deletes_its_own_entries()
    {
        var env = ClusterWithLeader(3);
        env.Handle("propose 1 a");
        env.Handle("stabilize");
        var before = StoredLog(env.Nodes[1]).ToList();

        // A stale append from an older term cannot touch the leader's log.
        env.Nodes[1].Raft.Step(Msg(MessageType.App, 2, 1, term: 0, logTerm: 0, index: 0, entries: E(1, 1, "evil")));
        env.Handle("stabilize");
        StoredLog(env.Nodes[1]).Should().Equal(before);
    }

    [Fact]
    public void Leader_fast_backtracks_over_a_conflicting_term_in_one_round_trip()
    {
        // Leader log: 1/1 then ten entries of term 3. Follower: 1/1 then ten entries of term 2.
        var leaderEntries = new[] { E(1, 1) }.Concat(Enumerable.Range(2, 10).Select(i => E(3, (ulong)i))).ToArray();
        var leaderStorage = StorageWith([1, 2], new HardState(3, 1, 1), leaderEntries);
        var (leader, _) = NewNode(1, [1, 2], storage: leaderStorage);
        leader.Campaign();
        Drain(leader, leaderStorage);
        leader.Step(Msg(MessageType.VoteResp, 2, 1, term: 4));
        var probe = DrainMessages(leader, leaderStorage).Single(m => m.Type == MessageType.App);

        var followerEntries = new[] { E(1, 1) }.Concat(Enumerable.Range(2, 10).Select(i => E(2, (ulong)i))).ToArray();
        var followerStorage = StorageWith([1, 2], new HardState(2, 0, 1), followerEntries);
        var (follower, _) = NewNode(2, [1, 2], storage: followerStorage);

        var rounds = 0;
        var message = probe;
        while (true)
        {
            rounds++;
            follower.Step(message);
            var response = DrainMessages(follower, followerStorage).Single();
            leader.Step(response);
            if (!response.Reject)
            {
                break;
            }

            message = DrainMessages(leader, leaderStorage).Single(m => m.Type == MessageType.App);
        }

        rounds.Should().Be(2, "one rejection with a term hint finds index 1, the next append succeeds");
        StoredEntries(followerStorage).Select(e => e.Term).Should().Equal(1UL, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 4);
    }

    [Fact]
    public void Pipelined_appends_stop_when_the_inflight_window_is_full()
    {
        var env = ClusterWithLeader(2, "max-inflight=3 max-size=1");
        for (var i = 0; i < 10; i++)
        {
            env.Handle($"propose 1 e{i}");
        }

        var rd = Drain(env.Nodes[1].Raft, env.Nodes[1].Storage);
        rd.Messages.Where(m => m.Type == MessageType.App).Should().HaveCount(3);
        rd.Messages.Should().OnlyContain(m => m.Entries.Count == 1, "max-size below one entry still sends one entry per message");
        env.Nodes[1].Raft.Status().Progress[2].Paused.Should().BeTrue();
    }

    [Fact]
    public void Proposal_to_a_follower_returns_not_leader_with_the_leader_hint()
    {
        var env = ClusterWithLeader(3);
        var result = env.Nodes[3].Raft.Propose([1, 2, 3]);
        result.Code.Should().Be(RaftResultCode.NotLeader);
        result.LeaderHint.Should().Be(1);

        var (candidate, storage) = NewNode(1, [1, 2, 3]);
        candidate.Campaign();
        candidate.Propose([1]).Should().Be(RaftResult.NotLeader(0));
        storage.LastIndex().Should().Be(0);
    }

    [Fact]
    public void Log_matching_holds_after_conflicting_appends()
    {
        // Node 1 leads term 1 and appends entries only it holds; node 2 leads term 2 with different entries at
        // the same indexes; after healing, node 3 leads term 3 and every log must be identical.
        var env = ClusterWithLeader(3);
        env.Handle("isolate 1");
        env.Handle("propose 1 lost1");
        env.Handle("propose 1 lost2");
        env.Handle("process-ready 1");
        env.Handle("campaign 2");
        env.Handle("stabilize 2 3");
        env.Handle("propose 2 kept");
        env.Handle("stabilize 2 3");
        env.Handle("transfer-leadership from=2 to=3");
        env.Handle("stabilize 2 3");
        env.Handle("recover");
        env.Handle("propose 3 last");
        env.Handle("tick-heartbeat 3");
        env.Handle("stabilize");

        var logs = env.Nodes.Values.Select(n => string.Join(" ", StoredLog(n).Select(e => $"{e.Term}/{e.Index}"))).Distinct().ToList();
        logs.Should().ContainSingle();
        env.Nodes.Values.Should().OnlyContain(n => n.State.SequenceEqual(new[] { "kept", "last" }));
    }

    [Fact]
    public void Log_matching_and_state_machine_safety_hold_under_random_partitions()
    {
        for (var seed = 1; seed <= 20; seed++)
        {
            RunRandomSchedule(seed);
        }
    }

    /// <summary>
    /// Random proposals, partitions, ticks and crashes-free restarts on five nodes; after healing, every node
    /// must hold the same log prefix up to the commit index and must have applied the same commands.
    /// </summary>
    private static void RunRandomSchedule(int seed)
    {
        var random = new Random(seed);
        var env = new InteractionEnv();
        env.Handle("add-nodes 5 voters=(1,2,3,4,5) prevote=true checkquorum=true");
        var proposals = 0;
        for (var step = 0; step < 300; step++)
        {
            var id = (ulong)random.Next(1, 6);
            switch (random.Next(10))
            {
                case 0:
                    env.Handle($"isolate {id}");
                    break;
                case 1:
                    env.Handle("recover");
                    break;
                case 2 or 3 or 4:
                    env.Handle($"propose {id} s{seed}p{proposals++}");
                    break;
                case 5:
                    env.Handle($"restart {id}");
                    break;
                default:
                    env.Handle($"tick {id} {random.Next(1, 8)}");
                    break;
            }

            env.Handle(random.Next(3) == 0 ? "stabilize" : $"process-ready {id}");
            env.Handle($"deliver-msgs {random.Next(1, 6)}");
            AssertCommittedPrefixesAgree(env, seed, checkLogs: step % 25 == 0);
        }

        env.Handle("recover");
        // Healed network, clocks advancing together: a leader emerges within a few election timeouts.
        for (var round = 0; round < 100; round++)
        {
            foreach (var id in env.Nodes.Keys)
            {
                env.Handle($"tick {id} 1");
            }

            env.Handle("stabilize");
        }

        AssertCommittedPrefixesAgree(env, seed, checkLogs: true);
        var leader = env.Nodes.Values.Where(n => n.Raft.Role == RaftRole.Leader).Should().ContainSingle($"seed {seed}: one leader after healing").Subject;
        env.Handle($"propose {leader.Id} final");
        env.Handle("stabilize");
        var states = env.Nodes.Values.Select(n => string.Join(",", n.State)).Distinct().ToList();
        states.Should().ContainSingle($"seed {seed}: every node applied the same commands in the same order");
        env.Nodes[1].State.Should().EndWith("final");
    }

    private static void AssertCommittedPrefixesAgree(InteractionEnv env, int seed, bool checkLogs)
    {
        var nodes = env.Nodes.Values.ToList();
        foreach (var a in nodes)
        {
            foreach (var b in nodes)
            {
                // State machine safety: applied sequences are prefixes of one another.
                var n = Math.Min(a.State.Count, b.State.Count);
                a.State.Take(n).Should().Equal(b.State.Take(n), $"seed {seed}: nodes {a.Id} and {b.Id} applied different commands");

                if (!checkLogs)
                {
                    continue;
                }

                // Log matching: equal (index, term) means equal entries and equal prefixes; check on the
                // committed part both hold in storage.
                var commit = Math.Min(a.Storage.HardState.Commit, b.Storage.HardState.Commit);
                var lo = Math.Max(a.Storage.FirstIndex(), b.Storage.FirstIndex());
                for (var i = lo; i <= commit; i++)
                {
                    if (i > a.Storage.LastIndex() || i > b.Storage.LastIndex())
                    {
                        break;
                    }

                    var ea = a.Storage.Entries(i, i + 1, ulong.MaxValue)[0];
                    var eb = b.Storage.Entries(i, i + 1, ulong.MaxValue)[0];
                    ea.Term.Should().Be(eb.Term, $"seed {seed}: committed entry {i} differs between {a.Id} and {b.Id}");
                    ea.Data.Should().Equal(eb.Data);
                }
            }
        }
    }

    private static IReadOnlyList<Entry> StoredEntries(MemoryRaftStorage s) => s.Entries(s.FirstIndex(), s.LastIndex() + 1, ulong.MaxValue);

    private static IEnumerable<string> StoredLogText(MemoryRaftStorage s) =>
        StoredEntries(s).Select(e => $"{e.Term}/{e.Index}:{System.Text.Encoding.UTF8.GetString(e.Data)}");
}
