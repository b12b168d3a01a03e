using LsmRaft.Raft;
using static LsmRaft.Raft.Tests.RaftTestKit;

namespace LsmRaft.Raft.Tests;

/// <summary>Single-server membership changes (thesis §4.1) and learners.</summary>
public sealed class MembershipTests
{
    [Fact]
    public void At_most_one_uncommitted_conf_change_is_in_the_log()
    {
        var env = ClusterWithLeader(3);
        env.Handle("isolate 2");
        env.Handle("isolate 3");
        env.Nodes[1].Raft.ProposeConfChange(ConfChange.AddLearner(4)).IsOk.Should().BeTrue();
        env.Nodes[1].Raft.ProposeConfChange(ConfChange.AddLearner(5)).Code.Should().Be(RaftResultCode.ConfChangePending);
        env.Handle("recover");
        env.Handle("tick-heartbeat 1");
        env.Handle("stabilize");
        env.Nodes[1].Raft.ProposeConfChange(ConfChange.AddLearner(5)).IsOk.Should().BeTrue("the first change committed");
    }

    [Fact]
    public void New_leader_may_not_change_membership_before_committing_an_entry_of_its_term()
    {
        var (leader, storage) = NewNode(1, [1, 2, 3]);
        leader.Campaign();
        Drain(leader, storage);
        leader.Step(Msg(MessageType.VoteResp, 2, 1, term: 1));
        leader.ProposeConfChange(ConfChange.AddLearner(4)).Code.Should().Be(RaftResultCode.ConfChangePending);
    }

    [Fact]
    public void Configuration_takes_effect_when_appended_and_rolls_back_when_the_entry_is_truncated()
    {
        var (follower, storage) = NewNode(2, [1, 2, 3]);
        var addVoter4 = new Entry(1, 1, EntryType.ConfChange, ConfChange.AddVoter(4).Encode());
        follower.Step(Msg(MessageType.App, 1, 2, term: 1, entries: addVoter4));
        follower.Status().Config.Voters.Should().Equal(1UL, 2, 3, 4);

        // A new leader of term 2 never had that entry; its entry at index 1 replaces it.
        follower.Step(Msg(MessageType.App, 3, 2, term: 2, entries: E(2, 1)));
        follower.Status().Config.Voters.Should().Equal(1UL, 2, 3);
        Drain(follower, storage);
        StoredLog(storage).Single().Term.Should().Be(2);
    }

    [Fact]
    public void Learner_does_not_count_toward_quorum_and_never_campaigns()
    {
        var env = new InteractionEnv();
        env.Handle("add-nodes 3 voters=(1,2) learners=(3)");
        env.Handle("campaign 1");
        env.Handle("stabilize");
        env.Handle("isolate 2");
        env.Handle("propose 1 x");
        env.Handle("stabilize");
        env.Nodes[1].State.Should().BeEmpty("leader plus learner is not a majority of voters {1, 2}");
        env.Nodes[3].Storage.LastIndex().Should().Be(2, "the learner still receives the log");

        for (var i = 0; i < 50; i++)
        {
            env.Nodes[3].Raft.Tick();
        }

        env.Nodes[3].Raft.Role.Should().Be(RaftRole.Follower);
        env.Nodes[3].Raft.Term.Should().Be(1);
    }

    [Fact]
    public void Removed_voter_stops_counting_toward_the_commit_quorum()
    {
        var env = ClusterWithLeader(3);
        env.Handle("propose-conf-change 1 r3");
        env.Handle("stabilize");
        env.Handle("isolate 3");
        env.Handle("propose 1 after");
        env.Handle("stabilize");
        env.Nodes[1].State.Should().Equal("after");
        env.Nodes[1].Raft.Status().Config.Voters.Should().Equal(1UL, 2);

        env.Handle("isolate 2");
        env.Handle("propose 1 blocked");
        env.Handle("stabilize");
        env.Nodes[1].State.Should().Equal(["after"], "two voters need both");
    }

    [Fact]
    public void Leader_cannot_remove_itself_or_leave_the_group_without_voters()
    {
        var env = ClusterWithLeader(1);
        env.Nodes[1].Raft.ProposeConfChange(ConfChange.Remove(1)).Code.Should().Be(RaftResultCode.ConfChangeInvalid);
        env.Nodes[1].Raft.ProposeConfChange(ConfChange.AddLearner(1)).Code.Should().Be(RaftResultCode.ConfChangeInvalid);
    }

    [Fact]
    public void Apply_conf_change_returns_the_configuration_as_of_that_entry()
    {
        var env = ClusterWithLeader(3);
        env.Handle("propose-conf-change 1 l4");
        env.Handle("stabilize");
        env.Nodes[2].AppliedConf.Should().Be(new ConfState([1, 2, 3], [4]));
        env.Handle("propose-conf-change 1 v4");
        env.Handle("stabilize");
        env.Nodes[2].AppliedConf.Should().Be(new ConfState([1, 2, 3, 4], []));
    }

    [Fact]
    public void Restart_recovers_term_vote_log_and_configuration_from_storage()
    {
        var env = ClusterWithLeader(3);
        env.Handle("propose-conf-change 1 l4");
        env.Handle("propose 1 x");
        env.Handle("stabilize");
        var before = env.Nodes[2].Raft.Status();
        env.Handle("restart 2");
        var after = env.Nodes[2].Raft.Status();
        after.HardState.Should().Be(before.HardState);
        after.Config.Should().Be(new ConfState([1, 2, 3], [4]), "the conf change entry is replayed from the log");
        env.Handle("stabilize");
        env.Nodes[2].State.Should().Equal("x");
    }

    [Fact]
    public void Conf_change_encoding_round_trips_and_rejects_unknown_versions()
    {
        foreach (var cc in new[] { ConfChange.AddVoter(7), ConfChange.AddLearner(ulong.MaxValue), ConfChange.Remove(1) })
        {
            ConfChange.Decode(cc.Encode()).Should().Be(cc);
        }

        var bad = ConfChange.AddVoter(2).Encode();
        bad[0] = 9;
        FluentActions.Invoking(() => ConfChange.Decode(bad)).Should().Throw<InvalidDataException>().WithMessage("*version 9*");
        FluentActions.Invoking(() => ConfChange.Decode(new byte[3])).Should().Throw<InvalidDataException>();
    }

    [Fact]
    public void New_member_created_empty_learns_the_membership_from_a_snapshot_and_cannot_elect_itself()
    {
        // The group's initial configuration is not in its log. If node 4, created with no configuration, replayed
        // the log from index 1, "l4" would leave it with no voters and "v4" would make it believe voters={4}: a
        // second leader of its own. It must start from a snapshot, which carries the configuration.
        var env = ClusterWithLeader(3, "prevote=true checkquorum=true");
        env.Handle("propose 1 a");
        env.Handle("stabilize");
        env.Handle("add-nodes 1");
        env.Handle("propose-conf-change 1 l4");
        env.Handle("stabilize");
        env.Nodes[4].Storage.LastIndex().Should().Be(0, "the entries alone would give it a wrong configuration");
        env.Nodes[1].Raft.TakeSnapshotRequest().Should().BeTrue("nothing was compacted yet, so the leader needs a snapshot");
        env.Nodes[1].Raft.TakeSnapshotRequest().Should().BeFalse("the request is reported once");

        env.Handle("compact 1");
        env.Handle("tick-heartbeat 1");
        env.Handle("stabilize");
        env.Nodes[4].Raft.Status().Config.Should().Be(new ConfState([1, 2, 3], [4]));
        env.Nodes[4].State.Should().Equal("a");

        env.Handle("propose-conf-change 1 v4");
        env.Handle("propose 1 b");
        env.Handle("stabilize");
        env.Nodes[4].Raft.Status().Config.Should().Be(new ConfState([1, 2, 3, 4], []));
        env.Nodes[4].State.Should().Equal("a", "b");

        env.Handle("isolate 4");
        for (var i = 0; i < 5; i++)
        {
            env.Handle("tick-election 4");
            env.Handle("stabilize");
        }

        env.Nodes[4].Raft.Role.Should().NotBe(RaftRole.Leader, "alone it is one vote of four");
    }

    [Fact]
    public void Leader_asks_for_a_new_snapshot_when_the_latest_one_predates_the_new_member()
    {
        var env = ClusterWithLeader(3);
        env.Handle("propose 1 a");
        env.Handle("stabilize");
        env.Handle("compact 1");
        env.Handle("add-nodes 1");
        env.Handle("propose-conf-change 1 l4");
        env.Handle("stabilize");
        env.Nodes[1].Raft.TakeSnapshotRequest().Should().BeTrue("the snapshot at 2 does not contain node 4, which would refuse it");
        env.Nodes[4].Raft.Status().Config.Should().Be(ConfState.Empty);

        env.Handle("compact 1");
        env.Handle("tick-heartbeat 1");
        env.Handle("stabilize");
        env.Nodes[4].Raft.Status().Config.Should().Be(new ConfState([1, 2, 3], [4]));
        env.Nodes[4].State.Should().Equal("a");
    }

    [Fact]
    public void Member_created_empty_never_campaigns()
    {
        var env = new InteractionEnv();
        env.Handle("add-nodes 1 prevote=true checkquorum=true");
        for (var i = 0; i < 100; i++)
        {
            env.Nodes[1].Raft.Tick();
        }

        env.Nodes[1].Raft.Role.Should().Be(RaftRole.Follower);
        env.Nodes[1].Raft.Term.Should().Be(0);
        env.Nodes[1].Raft.HasReady().Should().BeFalse("it sent nothing");
    }

    [Fact]
    public void Removed_voter_receives_its_committed_removal_and_then_is_forgotten_by_the_leader()
    {
        var env = ClusterWithLeader(3, "prevote=true checkquorum=true");
        env.Handle("propose-conf-change 1 r3");
        env.Handle("stabilize");
        env.Nodes[3].AppliedConf.Should().Be(new ConfState([1, 2], []), "node 3 applied the committed removal of itself");
        env.Nodes[3].Raft.Status().Config.Voters.Should().NotContain(3UL);

        for (var i = 0; i < 3; i++)
        {
            env.Handle("tick-election 1");
            env.Handle("stabilize");
        }

        env.Nodes[1].Raft.Status().Progress.Keys.Should().Equal([1UL, 2], "the leader stops sending to it once it was told");
        var term = env.Nodes[1].Raft.Term;
        for (var i = 0; i < 5; i++)
        {
            env.Handle("tick-election 3");
            env.Handle("stabilize");
        }

        env.Nodes[3].Raft.Role.Should().Be(RaftRole.Follower, "a non-member never campaigns");
        env.Nodes[1].Raft.Role.Should().Be(RaftRole.Leader);
        env.Nodes[1].Raft.Term.Should().Be(term);
    }

    [Fact]
    public void A_removed_member_added_back_before_the_leader_forgot_it_starts_from_an_empty_log()
    {
        // A replica moved away and straight back: its node may have dropped the group's log after the removal,
        // so the leader must not reuse what it knew of that log (a heartbeat carrying the old match as commit
        // index would be past the end of the new, empty log).
        var env = ClusterWithLeader(3, "prevote=true checkquorum=true");
        env.Handle("propose 1 a");
        env.Handle("stabilize");
        env.Handle("propose-conf-change 1 r3");
        env.Handle("stabilize");
        var leader = env.Nodes[1].Raft;
        leader.Status().Progress[3].Match.Should().BeGreaterThan(0, "node 3 is still departing, with the progress it had");

        env.Handle("propose-conf-change 1 l3");
        var progress = leader.Status().Progress[3];
        progress.Match.Should().Be(0);
        progress.IsLearner.Should().BeTrue();
        progress.Next.Should().Be(leader.Status().LastIndex + 1);
    }

    [Fact]
    public void A_late_acknowledgement_from_a_retired_replica_does_not_count_for_its_successor_on_the_same_node()
    {
        // The gap replica ids that are never reused close: node 3's replica (Raft id 3) is removed and the group's
        // replica is created on node 3 again under a new id (incarnation 1: 1 << 53 | 3, see the host's ReplicaId).
        // An acknowledgement the retired replica sent for the old, longer log arrives late: it must not raise the
        // new replica's match (the new replica's log is empty).
        const ulong Again = (1UL << 53) | 3;
        var env = ClusterWithLeader(3, "prevote=true checkquorum=true");
        env.Handle("propose 1 a");
        env.Handle("propose 1 b");
        env.Handle("stabilize");
        var leader = env.Nodes[1].Raft;
        ulong oldMatch = leader.Status().Progress[3].Match;
        oldMatch.Should().BeGreaterThan(1);
        env.Handle("propose-conf-change 1 r3");
        env.Handle("stabilize");

        leader.ProposeConfChange(ConfChange.AddLearner(Again)).IsOk.Should().BeTrue();
        leader.Status().Progress[Again].Match.Should().Be(0);
        leader.Step(Msg(MessageType.AppResp, 3, 1, term: leader.Term, index: oldMatch));
        leader.Step(Msg(MessageType.HeartbeatResp, 3, 1, term: leader.Term));

        var progress = leader.Status().Progress[Again];
        progress.Match.Should().Be(0, "the acknowledgement names the retired replica's id, not the new one's");
        progress.IsLearner.Should().BeTrue();
    }

    [Fact]
    public void A_follower_that_knows_no_configuration_after_acknowledging_entries_has_its_match_forgotten()
    {
        // Learner 4 caught up, then its node lost the replica's directory and created it again empty under the same id
        // (a move's target whose disk failed): it answers with the rejection at index 0 of a replica that knows no
        // configuration. The leader must not go on counting the entries it acknowledged before, nor call it caught up.
        var env = ClusterWithLeader(3);
        var leader = env.Nodes[1].Raft;
        leader.ProposeConfChange(ConfChange.AddLearner(4)).IsOk.Should().BeTrue();
        env.Handle("stabilize");
        ulong last = leader.Status().LastIndex;
        leader.Step(Msg(MessageType.AppResp, 4, 1, term: leader.Term, index: last));
        leader.Status().Progress[4].Match.Should().Be(last);

        leader.Step(new Message { Type = MessageType.AppResp, From = 4, To = 1, Term = leader.Term, Index = 0, Reject = true });

        var progress = leader.Status().Progress[4];
        progress.Match.Should().Be(0, "what replica 4 acknowledged is gone with its directory");
        progress.State.Should().NotBe(ProgressState.Replicate);
    }

    [Fact]
    public void A_late_heartbeat_to_a_member_created_again_commits_no_further_than_its_log()
    {
        // Node 3's replica was retired and created again: its log is forgotten, term 5 and vote kept. A heartbeat
        // its leader sent before, carrying the commit index of the old, longer log, arrives now.
        var storage = StorageWith([], new HardState(5, 1, 0));
        var (fresh, _) = NewNode(3, [], storage: storage);
        fresh.Step(Msg(MessageType.Heartbeat, 1, 3, term: 5, commit: 59));
        fresh.Status().HardState.Commit.Should().Be(0, "nothing of its (empty) log is known to be committed");

        // Caught up again from the same leader (a snapshot at 40, then entries 41-43 of its term), a late heartbeat
        // commits what it holds and no further.
        var snapshot = new RaftSnapshot(new SnapshotMetadata(40, 5, new ConfState([1, 2], [3])), []);
        fresh.Step(new Message { Type = MessageType.Snap, From = 1, To = 3, Term = 5, Snapshot = snapshot });
        fresh.Step(Msg(MessageType.App, 1, 3, term: 5, logTerm: 5, index: 40, commit: 40, entries: [E(5, 41), E(5, 42), E(5, 43)]));
        fresh.Status().LastIndex.Should().Be(43);
        fresh.Step(Msg(MessageType.Heartbeat, 1, 3, term: 5, commit: 59));
        fresh.Status().HardState.Commit.Should().Be(43);
    }

    [Fact]
    public void Membership_changes_that_do_not_fit_the_configuration_are_refused()
    {
        var env = ClusterWithLeader(3);
        var leader = env.Nodes[1].Raft;
        leader.ProposeConfChange(ConfChange.AddVoter(4)).Code.Should().Be(RaftResultCode.ConfChangeInvalid, "a voter joins as a learner first");
        leader.ProposeConfChange(ConfChange.AddVoter(2)).Code.Should().Be(RaftResultCode.ConfChangeInvalid, "2 is already a voter");
        leader.ProposeConfChange(ConfChange.Remove(9)).Code.Should().Be(RaftResultCode.ConfChangeInvalid, "9 is not a member");
        leader.ProposeConfChange(ConfChange.AddLearner(4)).IsOk.Should().BeTrue();
        env.Handle("stabilize");
        leader.ProposeConfChange(ConfChange.AddLearner(4)).Code.Should().Be(RaftResultCode.ConfChangeInvalid, "4 is already a learner");
        leader.ProposeConfChange(ConfChange.AddVoter(4)).IsOk.Should().BeTrue("promoting a learner is the way in");
    }

    private static IReadOnlyList<Entry> StoredLog(MemoryRaftStorage s) => s.Entries(s.FirstIndex(), s.LastIndex() + 1, ulong.MaxValue);
}
