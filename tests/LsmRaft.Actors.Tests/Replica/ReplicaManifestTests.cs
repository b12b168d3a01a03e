using System.Text;
using LsmRaft.Actors.Replica;
using LsmRaft.Protocol.Cluster;
using LsmRaft.Raft;
using LsmRaft.Storage.IO;

namespace LsmRaft.Actors.Tests.Replica;

public sealed class ReplicaManifestTests
{
    [Fact]
    public void A_manifest_keeps_the_replicas_own_id()
    {
        var fs = new MemoryFileSystem();
        ulong id = new ReplicaId(3, 2).Value;
        ReplicaManifest.Create(7, id, ConfState.Empty, new ShardDescriptor(0, 100, 4)).Write(fs, "/g/7");

        var read = ReplicaManifest.Read(fs, "/g/7")!;
        read.ReplicaId.Should().Be(id);
        read.IdOn(3).Should().Be(id);
    }

    [Fact]
    public void A_manifest_written_before_replica_ids_means_the_node_id()
    {
        var fs = new MemoryFileSystem();
        fs.CreateDirectory("/g/7");
        fs.WriteAtomically("/g/7/REPLICA", Encoding.UTF8.GetBytes("""{"GroupId":7,"Voters":[1,2,3],"Learners":[],"RangeStart":0,"RangeEnd":100,"Epoch":1}"""));

        var read = ReplicaManifest.Read(fs, "/g/7")!;
        read.ReplicaId.Should().Be(0);
        read.IdOn(3).Should().Be(3, "incarnation 0 of node 3");
    }

    [Fact]
    public void A_manifest_without_an_id_is_refused() =>
        FluentActions.Invoking(() => ReplicaManifest.Create(7, 0, ConfState.Empty, new ShardDescriptor(0, 1, 1)))
            .Should().Throw<ArgumentOutOfRangeException>().WithMessage("*names the replica's Raft id*");
}
