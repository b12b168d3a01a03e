using LsmRaft.Actors.Kernel;
using LsmRaft.Raft;
using LsmRaft.Actors.Replica;
using LsmRaft.Storage.IO;

namespace LsmRaft.Actors.Tests.Replica;

/// <summary>
/// Moving a replica the way the node host does it: start an empty replica on the target node, add it as a
/// learner, wait until the leader sees it caught up, promote it, remove the old voter, retire the old replica.
/// </summary>
public sealed class ReplicaMoveTests
{
    private const ulong Source = 3;
    private const ulong Target = 4;

    [Theory]
    [InlineData(10_000ul, false)] // the leader never snapshotted: it checkpoints on demand for the new member
    [InlineData(20ul, false)] // the leader's latest snapshot may predate the new member: it takes a newer one
    [InlineData(20ul, true)] // the same with every replica's Raft log in a node log
    public async Task Move_while_writing_keeps_every_acknowledged_write_and_retires_the_old_replica(ulong snapshotInterval, bool nodeLog)
    {
        await using var cluster = new ReplicaCluster(3, snapshotInterval, nodeLog ? new MemoryFileSystem() : null);
        var writer = new Writer(cluster);
        ulong leader = await cluster.WaitForLeaderAsync();
        leader = await MoveLeadershipOffSourceAsync(cluster, leader);
        await writer.WriteAsync(leader, 30);

        leader = await MoveAsync(cluster, writer, leader);

        await cluster.RunUntilAsync(() => cluster.StatusOf(Source) is { Removed: true }, 500, "the old replica learns it was removed");
        var old = cluster.StatusOf(Source)!;
        old.Members.Contains(Source).Should().BeFalse();
        old.Role.Should().Be(RaftRole.Follower);
        cluster.Network.SnapshotChunksDelivered.Should().BeGreaterThan(0, "the new member starts from a streamed snapshot");
        await AssertGroupAfterMoveAsync(cluster, writer, leader);

        // The retired replica stays up (the host has not stopped it yet) and must not disturb the group.
        ulong term = cluster.StatusOf(leader)!.Term;
        await TickAsync(cluster, 20 * 10);
        cluster.StatusOf(leader)!.Should().Match<ReplicaStatus>(s => s.Role == RaftRole.Leader && s.Term == term);
        cluster.StatusOf(Source)!.Role.Should().Be(RaftRole.Follower);
        await cluster.StopAsync(Source);
    }

    [Fact]
    public async Task Move_off_a_crashed_node_removes_the_unreachable_voter()
    {
        await using var cluster = new ReplicaCluster(3, snapshotInterval: 20);
        var writer = new Writer(cluster);
        ulong leader = await cluster.WaitForLeaderAsync();
        await writer.WriteAsync(leader, 25);
        await cluster.StopAsync(Source);
        if (leader == Source)
            leader = await cluster.WaitForLeaderAsync(1000);
        await writer.WriteAsync(leader, 10);

        leader = await MoveAsync(cluster, writer, leader);

        await AssertGroupAfterMoveAsync(cluster, writer, leader);
        await TickAsync(cluster, 3 * 10);
        var progress = await cluster.AskAsync<GroupProgress>(leader, r => new ReplicaMessage.GetProgress(r));
        progress.Peers.Keys.Should().NotContain(Source, "the leader stops trying to tell an unreachable removed node");
    }

    [Fact]
    public async Task A_replica_created_empty_never_campaigns()
    {
        await using var cluster = new ReplicaCluster(3);
        ulong leader = await cluster.WaitForLeaderAsync();
        ulong term = cluster.StatusOf(leader)!.Term;
        cluster.Start(Target, ConfState.Empty);
        await TickAsync(cluster, 30 * 10);
        cluster.StatusOf(Target)!.Should().Match<ReplicaStatus>(s => s.Role == RaftRole.Follower && s.Term == 0 && !s.Removed && s.Members.Voters.IsEmpty);
        cluster.StatusOf(leader)!.Term.Should().Be(term);

        // Isolated from everyone, it still never starts an election.
        cluster.Network.Isolate(Target);
        await TickAsync(cluster, 30 * 10);
        cluster.StatusOf(Target)!.Should().Match<ReplicaStatus>(s => s.Role == RaftRole.Follower && s.Term == 0);
    }

    [Fact]
    public async Task Membership_changes_that_are_not_allowed_answer_rejected()
    {
        await using var cluster = new ReplicaCluster(3);
        ulong leader = await cluster.WaitForLeaderAsync();
        ulong follower = cluster.Replicas.Keys.First(id => id != leader);

        (await ChangeAsync(cluster, leader, ConfChange.AddVoter(Target))).Should().BeOfType<ProposeOutcome.Rejected>()
            .Which.Reason.Should().Contain("not a learner");
        (await ChangeAsync(cluster, leader, ConfChange.Remove(leader))).Should().BeOfType<ProposeOutcome.Rejected>()
            .Which.Reason.Should().Contain("transfer leadership first");
        (await ChangeAsync(cluster, leader, ConfChange.Remove(9))).Should().BeOfType<ProposeOutcome.Rejected>()
            .Which.Reason.Should().Contain("not a member");
        (await ChangeAsync(cluster, follower, ConfChange.AddLearner(Target))).Should().Be(new ProposeOutcome.NotLeader(leader));

        // Two changes in one mailbox batch: the second finds the first uncommitted.
        var first = cluster.Replicas[leader].AskAsync<ProposeOutcome>(r => new ReplicaMessage.ChangeMembership(ConfChange.AddLearner(Target), r), TimeSpan.FromSeconds(60));
        var second = cluster.Replicas[leader].AskAsync<ProposeOutcome>(r => new ReplicaMessage.ChangeMembership(ConfChange.AddLearner(5), r), TimeSpan.FromSeconds(60));
        await cluster.RunUntilAsync(() => first.IsCompleted && second.IsCompleted, 500, "both changes are answered");
        (await first).Should().BeOfType<ProposeOutcome.Committed>();
        (await second).Should().BeOfType<ProposeOutcome.Rejected>().Which.Reason.Should().StartWith(nameof(RaftResultCode.ConfChangePending));
        (await ChangeAsync(cluster, leader, ConfChange.AddLearner(Target))).Should().BeOfType<ProposeOutcome.Rejected>()
            .Which.Reason.Should().Contain("already a learner");
    }

    [Fact]
    public async Task A_removed_voter_that_missed_its_removal_cannot_disrupt_the_group()
    {
        await using var cluster = new ReplicaCluster(3);
        ulong leader = await cluster.WaitForLeaderAsync();
        leader = await MoveLeadershipOffSourceAsync(cluster, leader);
        cluster.Network.Isolate(Source);
        (await ChangeAsync(cluster, leader, ConfChange.Remove(Source))).Should().BeOfType<ProposeOutcome.Committed>();
        await TickAsync(cluster, 15 * 10);
        ulong term = cluster.StatusOf(leader)!.Term;

        // It still believes it is a voter of {1,2,3} and keeps starting pre-votes, which the others ignore.
        cluster.Network.Heal(Source);
        await TickAsync(cluster, 30 * 10);
        cluster.StatusOf(leader)!.Should().Match<ReplicaStatus>(s => s.Role == RaftRole.Leader && s.Term == term);
        cluster.StatusOf(Source)!.Role.Should().NotBe(RaftRole.Leader);
        (await cluster.PutAsync(leader, "after", "heal")).Should().BeOfType<ProposeOutcome.Committed>();
    }

    /// <summary>The host's move sequence; writes keep flowing through every step. Returns the leader afterwards.</summary>
    private static async Task<ulong> MoveAsync(ReplicaCluster cluster, Writer writer, ulong leader)
    {
        cluster.Start(Target, ConfState.Empty);
        writer.Start(leader, 10);
        (await ChangeAsync(cluster, leader, ConfChange.AddLearner(Target))).Should().BeOfType<ProposeOutcome.Committed>();

        GroupProgress progress;
        int polls = 0;
        while (true)
        {
            writer.Start(leader, 3);
            progress = await cluster.AskAsync<GroupProgress>(leader, r => new ReplicaMessage.GetProgress(r));
            if (progress.IsCaughtUp(Target, maxLag: 5))
                break;
            (++polls).Should().BeLessThan(500, "the learner catches up");
            await TickAsync(cluster, 1);
        }
        progress.Peers[Target].IsLearner.Should().BeTrue();
        progress.ConfChangePending.Should().BeFalse();

        writer.Start(leader, 10);
        (await ChangeAsync(cluster, leader, ConfChange.AddVoter(Target))).Should().BeOfType<ProposeOutcome.Committed>();
        writer.Start(leader, 10);
        (await ChangeAsync(cluster, leader, ConfChange.Remove(Source))).Should().BeOfType<ProposeOutcome.Committed>();
        writer.Start(leader, 10);
        await writer.DrainAsync();
        return leader;
    }

    private static async Task AssertGroupAfterMoveAsync(ReplicaCluster cluster, Writer writer, ulong leader)
    {
        var voters = new ConfState([1, 2, Target], []);
        cluster.StatusOf(leader)!.Members.Should().Be(voters);
        writer.Acknowledged.Count.Should().BeGreaterThan(50);
        ulong last = writer.Acknowledged.Values.Max();
        await cluster.RunUntilAsync(() => cluster.StatusOf(Target) is { } s && s.Applied >= last, 1000, "the new replica applies every acknowledged write");
        cluster.StatusOf(Target)!.Should().Match<ReplicaStatus>(s => s.Members.Equals(voters) && !s.Removed);
        foreach (var key in writer.Acknowledged.Keys)
        {
            var read = await cluster.ReadAsync(Target, key, ReadMode.Stale);
            read.Should().BeOfType<ReadOutcome.Value>().Which.Data.Should().Equal(ReplicaCluster.B("value-" + key), $"{key} was acknowledged");
        }

        // The group of three voters still commits with the new member.
        (await cluster.PutAsync(leader, "after-move", "x")).Should().BeOfType<ProposeOutcome.Committed>();
    }

    private static async Task<ulong> MoveLeadershipOffSourceAsync(ReplicaCluster cluster, ulong leader)
    {
        if (leader != Source)
            return leader;
        (await cluster.AskAsync<RaftResult>(leader, r => new ReplicaMessage.TransferLeadership(1, r))).IsOk.Should().BeTrue();
        await cluster.RunUntilAsync(() => cluster.StatusOf(1) is { Role: RaftRole.Leader }, 500, "node 1 takes over");
        return 1;
    }

    private static Task<ProposeOutcome> ChangeAsync(ReplicaCluster cluster, ulong at, ConfChange change) =>
        cluster.AskAsync<ProposeOutcome>(at, r => new ReplicaMessage.ChangeMembership(change, r));

    private static async Task TickAsync(ReplicaCluster cluster, int ticks)
    {
        int n = 0;
        await cluster.RunUntilAsync(() => n++ >= ticks, ticks + 1, $"{ticks} ticks");
    }

    /// <summary>Proposes unique keys without waiting; remembers every write the leader acknowledged and at which index.</summary>
    private sealed class Writer(ReplicaCluster cluster)
    {
        private readonly List<(string Key, Task<ProposeOutcome> Outcome)> _pending = new();
        private int _next;

        public Dictionary<string, ulong> Acknowledged { get; } = new();

        public void Start(ulong leader, int count)
        {
            for (int i = 0; i < count; i++)
            {
                string key = $"key-{_next++:D4}";
                var task = cluster.Replicas[leader].AskAsync<ProposeOutcome>(
                    r => new ReplicaMessage.Propose(KvCommand.Put(ReplicaCluster.B(key), ReplicaCluster.B("value-" + key)), r), TimeSpan.FromSeconds(60));
                _pending.Add((key, task));
            }
        }

        public async Task WriteAsync(ulong leader, int count)
        {
            Start(leader, count);
            await DrainAsync();
        }

        /// <summary>Ticks until every started write is answered, then records the acknowledged ones.</summary>
        public async Task DrainAsync()
        {
            await cluster.RunUntilAsync(() => _pending.All(p => p.Outcome.IsCompleted), 1000, "every write is answered");
            foreach (var (key, outcome) in _pending)
                if (await outcome is ProposeOutcome.Committed committed)
                    Acknowledged[key] = committed.Index;
            _pending.Clear();
        }
    }
}
