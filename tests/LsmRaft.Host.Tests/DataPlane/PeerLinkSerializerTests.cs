using System.Runtime.Serialization;
using Akka.Actor;
using Akka.Configuration;
using Google.Protobuf;
using LsmRaft.Host.DataPlane;
using LsmRaft.Host.Node;
using LsmRaft.Protocol.Peer;
using LsmRaft.Host.Tests.Support;

namespace LsmRaft.Host.Tests.DataPlane;

/// <summary>
/// The one message the Akka data plane sends between nodes, <see cref="PeerBatch"/>, is bound (hocon/lsmraft.conf) to
/// <see cref="PeerLinkSerializer"/> — never Akka's JSON or built-in protobuf serializer — and its bytes are pinned.
/// </summary>
public sealed class PeerLinkSerializerTests : IAsyncLifetime
{
    private ActorSystem _system = null!;

    public Task InitializeAsync()
    {
        _system = ActorSystem.Create(AkkaConfig.SystemName(LsmRaft.Host.Config.NodeConfig.DefaultGroupId), ConfigurationFactory.ParseString(File.ReadAllText(AkkaConfig.MainFile)));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _system.Terminate();

    /// <summary>One item of every kind a batch carries.</summary>
    internal static PeerBatch Sample() => new()
    {
        FromNode = 2,
        Messages =
        {
            new RaftMessage
            {
                GroupId = 7, Type = RaftMessageType.MsgApp, From = 2, To = 1, Term = 3, LogTerm = 3, Index = 41, Commit = 40,
                Entries = { new LogEntry { Term = 3, Index = 42, Type = LogEntryType.Normal, Data = ByteString.CopyFromUtf8("put k v") } },
            },
        },
        Heartbeats = { new HeartbeatEntry { GroupId = 8, From = 2, To = 1, Term = 5, Commit = 9, Tick = 11 } },
        HeartbeatResponses = { new HeartbeatEntry { GroupId = 9, From = 2, To = 1, Term = 6, Tick = 12 } },
        ForwardRequests = { new ForwardRequest { RequestId = 13, ShardId = 7, Epoch = 1, Put = new PutOp { Key = ByteString.CopyFromUtf8("k"), Value = ByteString.CopyFromUtf8("v") } } },
        ForwardResponses = { new ForwardResponse { RequestId = 14, Version = 42 } },
        Probe = true,
    };

    [Fact]
    public void PeerBatch_is_bound_to_PeerLinkSerializer_with_a_one_letter_manifest()
    {
        var serializer = _system.Serialization.FindSerializerForType(typeof(PeerBatch));

        serializer.Should().BeOfType<PeerLinkSerializer>("JSON or the built-in protobuf serializer (type name per message) must never carry data");
        serializer.Identifier.Should().Be(PeerLinkSerializer.Id);
        Akka.Serialization.Serialization.ManifestFor(serializer, Sample()).Should().Be("B");
    }

    [Fact]
    public void A_batch_with_every_kind_of_item_survives_the_round_trip()
    {
        var serializer = (PeerLinkSerializer)_system.Serialization.FindSerializerForType(typeof(PeerBatch));
        var batch = Sample();

        var back = serializer.FromBinary(serializer.ToBinary(batch), serializer.Manifest(batch));

        back.Should().Be(batch);
    }

    [Fact]
    public void The_bytes_of_a_batch_are_pinned()
    {
        // Changing them breaks mixed-version clusters: add fields with new numbers instead (peer.proto's rules).
        const string golden =
            "0802121f0807100418022001280330033829420d0803102a2207707574206b207648281a0c08081002180120052809300b" +
            "220a0809100218012006300c2a0e080d100718015a060a016b1201763204080e582a3801";
        var serializer = _system.Serialization.FindSerializerForType(typeof(PeerBatch));

        Convert.ToHexString(serializer.ToBinary(Sample())).ToLowerInvariant().Should().Be(golden);
    }

    [Fact]
    public async Task The_outbox_writer_is_local_only_and_runs_under_creator_and_message_verification()
    {
        var checking = ActorSystem.Create("creators", ConfigurationFactory.ParseString(RemoteSystems.Verification + "\nakka.actor.serialize-creators = on")
            .WithFallback(ConfigurationFactory.ParseString(File.ReadAllText(AkkaConfig.MainFile))));
        try
        {
            var outbox = new PeerOutbox(2, new Address("akka.tcp", AkkaConfig.SystemName(LsmRaft.Host.Config.NodeConfig.DefaultGroupId), "127.0.0.1", 1), 16);
            var props = PeerOutboxWriter.Props(outbox, checking.DeadLetters, 1, 1024);
            props.Deploy.Scope.Should().BeOfType<LocalScope>("PeerLink's actors are never deployed remotely");
            outbox.AttachWriter(checking.ActorOf(props, "writer"));

            outbox.Enqueue(new OutItem(OutItem.Kinds.Probe, null)).Should().BeTrue();

            await Poll.UntilAsync(() => outbox.BatchesSent == 1, "the writer flushed the probe");
        }
        finally
        {
            await checking.Terminate();
        }
    }

    [Fact]
    public void An_unknown_manifest_or_malformed_bytes_are_refused_with_a_clear_error()
    {
        var serializer = (PeerLinkSerializer)_system.Serialization.FindSerializerForType(typeof(PeerBatch));

        serializer.Invoking(s => s.FromBinary([1, 2, 3], "Z")).Should().Throw<SerializationException>().WithMessage("*manifest 'Z'*");
        serializer.Invoking(s => s.FromBinary([0x12, 0xff, 0xff, 0x7f], "B")).Should().Throw<SerializationException>().WithMessage("*malformed*");
        serializer.Invoking(s => s.ToBinary("text")).Should().Throw<ArgumentException>().WithMessage("*System.String*");
    }
}
