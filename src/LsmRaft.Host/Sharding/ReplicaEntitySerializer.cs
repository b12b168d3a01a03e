using System.Buffers.Binary;
using Akka.Actor;
using Akka.Serialization;
using SerializationException = System.Runtime.Serialization.SerializationException;

namespace LsmRaft.Host.Sharding;

/// <summary>
/// The replica region's messages on the wire (bound in hocon/lsmraft.conf). Format, version 1: a one-letter manifest
/// (<c>S</c> start, <c>T</c> stop, <c>H</c> hand-off) and, for start and stop, 24 bytes: node, group and replica id as
/// little-endian unsigned 64-bit integers. Hand-off has no payload.
/// </summary>
internal sealed class ReplicaEntitySerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    /// <summary>Akka reserves 0-100; <see cref="DataPlane.PeerLinkSerializer"/> has 4711.</summary>
    public const int Id = 4712;

    private const string StartManifest = "S";
    private const string StopManifest = "T";
    private const string HandOffManifest = "H";
    private const int CommandLength = 24;

    public override int Identifier => Id;

    public override string Manifest(object o) => o switch
    {
        StartReplicaEntity => StartManifest,
        StopReplicaEntity => StopManifest,
        HandOffReplicaEntity => HandOffManifest,
        _ => throw new ArgumentException($"{nameof(ReplicaEntitySerializer)} cannot serialize {o.GetType()}", nameof(o)),
    };

    public override byte[] ToBinary(object obj)
    {
        if (obj is HandOffReplicaEntity)
            return [];
        if (obj is not ReplicaEntityCommand command)
            throw new ArgumentException($"{nameof(ReplicaEntitySerializer)} cannot serialize {obj.GetType()}", nameof(obj));
        var bytes = new byte[CommandLength];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, command.Node);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(8), command.Group);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(16), command.Replica);
        return bytes;
    }

    public override object FromBinary(byte[] bytes, string manifest)
    {
        if (manifest == HandOffManifest)
            return HandOffReplicaEntity.Instance;
        if (manifest is not (StartManifest or StopManifest))
            throw new SerializationException($"Unknown replica region message manifest '{manifest}' (a newer node? this one knows S, T and H).");
        if (bytes.Length != CommandLength)
            throw new SerializationException($"A replica region message '{manifest}' has {bytes.Length} bytes; version 1 has {CommandLength}.");
        ulong node = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        ulong group = BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(8));
        ulong replica = BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(16));
        return manifest == StartManifest ? new StartReplicaEntity(node, group, replica) : new StopReplicaEntity(node, group, replica);
    }
}
