using Akka.Actor;
using Akka.Serialization;
using LsmRaft.Host.Sharding;
using LsmRaft.Host.Tests.DataPlane;

namespace LsmRaft.Host.Tests.Sharding;

/// <summary>The replica region's messages have their own serializer (never Akka's JSON fallback) and a fixed format.</summary>
public sealed class ReplicaEntitySerializerTests : IAsyncLifetime
{
    private readonly ActorSystem _system = RemoteSystems.Start();

    [Fact]
    public void Start_stop_and_hand_off_are_bound_to_the_replica_entity_serializer_and_round_trip()
    {
        var serialization = _system.Serialization;
        foreach (object message in new object[] { new StartReplicaEntity(3, 12, 7), new StopReplicaEntity(3, 12, 7), HandOffReplicaEntity.Instance })
        {
            var serializer = serialization.FindSerializerFor(message);
            serializer.Should().BeOfType<ReplicaEntitySerializer>();
            byte[] bytes = serializer.ToBinary(message);
            string manifest = Akka.Serialization.Serialization.ManifestFor(serializer, message);
            serialization.Deserialize(bytes, serializer.Identifier, manifest).Should().Be(message);
        }
    }

    [Fact]
    public void The_wire_format_is_version_1_little_endian_node_group_replica()
    {
        var serializer = (SerializerWithStringManifest)_system.Serialization.FindSerializerFor(new StartReplicaEntity(1, 2, 3));
        serializer.ToBinary(new StartReplicaEntity(0x0102, 2, 3)).Should().Equal(
            0x02, 0x01, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0);
        serializer.Manifest(new StopReplicaEntity(1, 2, 3)).Should().Be("T");
        var truncated = () => serializer.FromBinary(new byte[23], "S");
        truncated.Should().Throw<System.Runtime.Serialization.SerializationException>().WithMessage("*23 bytes; version 1 has 24*");
        var unknown = () => serializer.FromBinary(new byte[24], "Z");
        unknown.Should().Throw<System.Runtime.Serialization.SerializationException>().WithMessage("*Unknown replica region message manifest 'Z'*");
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _system.Terminate();
}
