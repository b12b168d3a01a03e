using System.Buffers;
using Google.Protobuf;
using LsmRaft.Protocol.Framing;
using LsmRaft.Protocol.Peer;

namespace LsmRaft.Protocol.Tests;

/// <summary>The compact per-node-pair heartbeat form of RaftBatch (docs/peer-protocol.md, "Coalesced heartbeats").</summary>
public sealed class CoalescedHeartbeatTests
{
    private static RaftBatch Heartbeats(int groups, bool compact)
    {
        var batch = new RaftBatch();
        for (ulong g = 1; g <= (ulong)groups; g++)
        {
            if (compact)
                batch.Heartbeats.Add(new HeartbeatEntry { GroupId = g, From = 1, To = 2, Term = 7, Commit = 100_000 + g, Tick = 123_456 });
            else
                batch.Messages.Add(new RaftMessage { GroupId = g, Type = RaftMessageType.MsgHeartbeat, From = 1, To = 2, Term = 7, Commit = 100_000 + g, Index = 123_456 });
        }
        return batch;
    }

    [Fact]
    public void A_batch_of_heartbeats_and_responses_of_many_groups_round_trips_in_one_frame()
    {
        var batch = Heartbeats(13, compact: true);
        batch.HeartbeatResponses.Add(new HeartbeatEntry { GroupId = 14, From = 1, To = 2, Term = 3, Tick = 99 });
        batch.Heartbeats[0].Quiesce = true;
        batch.Messages.Add(new RaftMessage { GroupId = 15, Type = RaftMessageType.MsgHeartbeat, From = 1, To = 2, Term = 7, Context = ByteString.CopyFromUtf8("read-1") });
        var envelope = new Envelope { RaftBatch = batch };

        var writer = new ArrayBufferWriter<byte>();
        FrameCodec.WriteFrame(writer, envelope);
        var buffer = new ReadOnlySequence<byte>(writer.WrittenMemory);
        FrameCodec.TryReadFrame(ref buffer, FrameCodec.DefaultMaxFrame, out var read).Should().BeTrue();

        read.Should().Be(envelope);
        read!.RaftBatch.Heartbeats.Should().HaveCount(13);
        read.RaftBatch.Heartbeats[0].Quiesce.Should().BeTrue();
        read.RaftBatch.HeartbeatResponses.Should().ContainSingle().Which.Tick.Should().Be(99);
        read.RaftBatch.Messages.Should().ContainSingle("a read-index heartbeat keeps its full form");
    }

    [Fact]
    public void Heartbeat_entry_field_numbers_are_stable()
    {
        // group_id=1, from=2, to=3, term=4, commit=5, tick=6, quiesce=7: the contract with other nodes' binaries.
        var bytes = new HeartbeatEntry { GroupId = 1, From = 2, To = 3, Term = 4, Commit = 5, Tick = 6, Quiesce = true }.ToByteArray();
        bytes.Should().Equal(0x08, 1, 0x10, 2, 0x18, 3, 0x20, 4, 0x28, 5, 0x30, 6, 0x38, 1);

        // RaftBatch: messages=1, heartbeats=2, heartbeat_responses=3; RaftMessage.quiesce=14.
        new RaftBatch { Heartbeats = { new HeartbeatEntry() } }.ToByteArray().Should().Equal(0x12, 0);
        new RaftBatch { HeartbeatResponses = { new HeartbeatEntry() } }.ToByteArray().Should().Equal(0x1A, 0);
        new RaftMessage { Quiesce = true }.ToByteArray().Should().Equal(0x70, 1);
    }

    [Fact]
    public void The_compact_form_is_smaller_than_full_heartbeat_messages()
    {
        int compact = Heartbeats(13, compact: true).CalculateSize();
        int full = Heartbeats(13, compact: false).CalculateSize();

        compact.Should().BeLessThan(full, "each entry drops the message type");
    }
}
