using LsmRaft.Actors.Replica;
using LsmRaft.Storage.IO;

namespace LsmRaft.Actors.Tests.Replica;

/// <summary>
/// Whole-cluster power loss: three replicas keep their Raft logs in node logs (fsync on) and their
/// engines (WAL off) on one in-memory disk; the disk is then cut to what was durable (with torn tails)
/// while proposals are still in flight, and a new incarnation starts from that copy.
/// </summary>
public sealed class ReplicaCrashTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public async Task No_acknowledged_write_is_lost_when_every_replica_loses_power_at_once(int seed)
    {
        var random = new Random(seed);
        var disk = new MemoryFileSystem();
        var acknowledged = new Dictionary<string, string>();
        MemoryFileSystem afterCrash;
        await using (var before = new ReplicaCluster(3, snapshotInterval: 40, durableOn: disk))
        {
            ulong leader = await before.WaitForLeaderAsync();
            int writes = 60 + random.Next(60);
            for (int i = 0; i < writes; i++)
            {
                string key = $"k{random.Next(40):D2}", value = $"v{i}-seed{seed}";
                var outcome = await before.PutAsync(leader, key, value);
                if (outcome is ProposeOutcome.Committed)
                    acknowledged[key] = value;
            }
            // Proposals still in flight when the power goes: they may or may not survive.
            var inFlight = Enumerable.Range(0, 10).Select(i =>
                before.Replicas[leader].RequestAsync<ProposeOutcome>(r => new ReplicaMessage.Propose(KvCommand.Put(ReplicaCluster.B($"inflight{i}"), ReplicaCluster.B("x")), r), TimeSpan.FromSeconds(60))).ToList();
            afterCrash = disk.CrashCopy(random);
        }

        await using var after = new ReplicaCluster(3, snapshotInterval: 40, durableOn: afterCrash);
        ulong newLeader = await after.WaitForLeaderAsync(2000);
        foreach (var (key, value) in acknowledged)
        {
            var read = await after.ReadAsync(newLeader, key);
            read.Should().BeOfType<ReadOutcome.Value>($"seed {seed}: acknowledged key {key} must survive")
                .Which.Data.Should().Equal(ReplicaCluster.B(value), $"seed {seed}: key {key} must hold its last acknowledged value");
        }
    }
}
