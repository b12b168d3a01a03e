using LsmRaft.Raft;
using static LsmRaft.Raft.Tests.RaftTestKit;

namespace LsmRaft.Raft.Tests;

/// <summary>Log compaction and snapshot installation (Raft §7).</summary>
public sealed class SnapshotTests
{
    [Fact]
    public void Lagging_follower_receives_a_snapshot_when_the_entries_it_needs_are_compacted()
    {
        var env = ClusterWithLeader(3);
        env.Handle("isolate 3");
        env.Handle("propose 1 a");
        env.Handle("propose 1 b");
        env.Handle("stabilize");
        env.Handle("compact 1");
        env.Handle("recover");
        env.Handle("tick-heartbeat 1");
        env.Handle("stabilize");
        env.Nodes[3].State.Should().Equal("a", "b");
        env.Nodes[3].Storage.Snapshot().Index.Should().Be(3);
        env.Nodes[1].Raft.Status().Progress[3].State.Should().Be(ProgressState.Replicate);
    }

    [Fact]
    public void Follower_ignores_a_snapshot_that_does_not_advance_its_commit_index()
    {
        var storage = StorageWith([1, 2], new HardState(1, 0, 3), E(1, 1), E(1, 2), E(1, 3));
        var (follower, _) = NewNode(2, [1, 2], storage: storage);
        var old = new RaftSnapshot(new SnapshotMetadata(2, 1, new ConfState([1, 2], [])), []);
        follower.Step(new Message { Type = MessageType.Snap, From = 1, To = 2, Term = 1, Snapshot = old });
        var rd = Drain(follower, storage);
        rd.Snapshot.Should().BeNull();
        rd.Messages.Single().Index.Should().Be(3, "the response tells the leader our commit index");
    }

    [Fact]
    public void Follower_holding_the_snapshots_last_entry_fast_forwards_its_commit_instead_of_restoring()
    {
        var storage = StorageWith([1, 2], new HardState(1, 0, 1), E(1, 1), E(1, 2), E(1, 3));
        var (follower, _) = NewNode(2, [1, 2], storage: storage);
        var snap = new RaftSnapshot(new SnapshotMetadata(3, 1, new ConfState([1, 2], [])), []);
        follower.Step(new Message { Type = MessageType.Snap, From = 1, To = 2, Term = 1, Snapshot = snap });
        var rd = Drain(follower, storage);
        rd.Snapshot.Should().BeNull();
        rd.HardState!.Value.Commit.Should().Be(3);
    }

    [Fact]
    public void Memory_storage_compacts_only_entries_covered_by_its_snapshot()
    {
        var storage = StorageWith([1], new HardState(1, 1, 3), E(1, 1), E(1, 2), E(1, 3));
        FluentActions.Invoking(() => storage.Compact(2)).Should().Throw<InvalidOperationException>();
        storage.CreateSnapshot(2, new ConfState([1], []), [42]);
        storage.Compact(2);
        storage.FirstIndex().Should().Be(3);
        storage.Term(2).Should().Be(1, "the snapshot's term stays known");
        FluentActions.Invoking(() => storage.Entries(2, 4, ulong.MaxValue)).Should().Throw<RaftLogCompactedException>();
        storage.Append([E(2, 3, "replaced")]);
        storage.LastIndex().Should().Be(3);
        storage.Term(3).Should().Be(2, "appending at an existing index replaces the suffix");
    }

    [Fact]
    public void Inflight_window_is_bounded_by_count_and_bytes()
    {
        var byCount = new Inflights(2, 0);
        byCount.Add(1, 100);
        byCount.Add(2, 100);
        byCount.Full.Should().BeTrue();
        byCount.FreeLE(1);
        byCount.Full.Should().BeFalse();

        var byBytes = new Inflights(10, 150);
        byBytes.Add(1, 100);
        byBytes.Full.Should().BeFalse();
        byBytes.Add(2, 100);
        byBytes.Full.Should().BeTrue();
        byBytes.FreeFirstOne();
        byBytes.Bytes.Should().Be(100);
    }
}
