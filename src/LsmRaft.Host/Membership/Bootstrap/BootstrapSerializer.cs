using System.Runtime.Serialization;
using Akka.Actor;
using Akka.Serialization;
using Google.Protobuf;
using LsmRaft.Protocol.Bootstrap;

namespace LsmRaft.Host.Membership.Bootstrap;

/// <summary>
/// The bootstrap probe and its answer on the wire (bootstrap.proto) under one-letter manifests (<c>P</c> probe,
/// <c>A</c> answer). Bound in hocon/lsmraft.conf (<c>akka.actor.serializers.lsmraft-bootstrap</c>).
/// </summary>
internal sealed class BootstrapSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    /// <summary>Akka reserves 0-100; <see cref="DataPlane.PeerLinkSerializer"/> has 4711, <see cref="Sharding.ReplicaEntitySerializer"/> 4712.</summary>
    public const int Id = 4713;

    private const string ProbeManifest = "P";
    private const string AnswerManifest = "A";

    public override int Identifier => Id;

    public override string Manifest(object o) => o switch
    {
        BootstrapProbe => ProbeManifest,
        BootstrapAnswer => AnswerManifest,
        _ => throw new ArgumentException($"{nameof(BootstrapSerializer)} cannot serialize {o.GetType()}", nameof(o)),
    };

    public override byte[] ToBinary(object obj) => obj switch
    {
        IMessage message and (BootstrapProbe or BootstrapAnswer) => message.ToByteArray(),
        _ => throw new ArgumentException($"{nameof(BootstrapSerializer)} cannot serialize {obj.GetType()}", nameof(obj)),
    };

    public override object FromBinary(byte[] bytes, string manifest)
    {
        try
        {
            return manifest switch
            {
                ProbeManifest => BootstrapProbe.Parser.ParseFrom(bytes),
                AnswerManifest => BootstrapAnswer.Parser.ParseFrom(bytes),
                _ => throw new SerializationException($"Unknown bootstrap message manifest '{manifest}' (a newer node? this one knows P and A)."),
            };
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new SerializationException($"A bootstrap message '{manifest}' from a peer is malformed ({bytes.Length} bytes): {e.Message}", e);
        }
    }
}
