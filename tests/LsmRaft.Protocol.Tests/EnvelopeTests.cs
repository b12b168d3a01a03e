using System.Buffers;
using Google.Protobuf;
using LsmRaft.Protocol.Framing;
using LsmRaft.Protocol.Peer;

namespace LsmRaft.Protocol.Tests;

public sealed class EnvelopeTests
{
    private static ByteString Bytes(string text) => ByteString.CopyFromUtf8(text);

    private static SnapshotMeta Meta() => new() { Index = 500, Term = 4, Voters = { 1, 2, 3 }, Learners = { 4 } };

    /// <summary>One envelope per case, every field set to a non-default value.</summary>
    public static TheoryData<string, Envelope> EveryKind() => new()
    {
        { "challenge", new Envelope { Challenge = new Challenge { Nonce = Bytes("n0nce"), ProtocolVersion = 1, NodeId = 9 } } },
        { "hello", new Envelope { Hello = new Hello { ClusterId = "prod-1", NodeId = 3, SecretProof = Bytes("proof"), ProtocolVersion = 1, ClientNonce = Bytes("cn") } } },
        { "hello_ack", new Envelope { HelloAck = new HelloAck { NodeId = 9, ServerProof = Bytes("sp") } } },
        { "hello_reject", new Envelope { HelloReject = new HelloReject { Code = HelloRejectCode.BadProof, Reason = "bad proof" } } },
        {
            "raft_message", new Envelope
            {
                RaftMessage = new RaftMessage
                {
                    GroupId = 12, Type = RaftMessageType.MsgSnap, From = 1, To = 2, Term = 5, LogTerm = 4, Index = 500,
                    Entries = { new LogEntry { Term = 5, Index = 501, Type = LogEntryType.ConfChange, Data = Bytes("cc") } },
                    Commit = 499, Reject = true, RejectHint = 480, Snapshot = Meta(), Context = Bytes("ctx"), Quiesce = true,
                },
            }
        },
        {
            "raft_batch", new Envelope
            {
                RaftBatch = new RaftBatch
                {
                    Messages =
                    {
                        new RaftMessage { GroupId = 1, Type = RaftMessageType.MsgHeartbeat, From = 1, To = 2, Term = 3, Commit = 10 },
                        new RaftMessage { GroupId = 2, Type = RaftMessageType.MsgVoteResp, From = 1, To = 3, Term = 8, Reject = true },
                        new RaftMessage { GroupId = 3, Type = RaftMessageType.MsgReadIndex, From = 1, To = 2, Context = Bytes("read-7") },
                    },
                    Heartbeats = { new HeartbeatEntry { GroupId = 4, From = 1, To = 2, Term = 3, Commit = 10, Tick = 77, Quiesce = true } },
                    HeartbeatResponses = { new HeartbeatEntry { GroupId = 5, From = 2, To = 1, Term = 3, Tick = 76 } },
                },
            }
        },
        {
            "snapshot_chunk", new Envelope
            {
                SnapshotChunk = new SnapshotChunk
                {
                    GroupId = 12, From = 1, To = 4, Snapshot = Meta(), FileName = "000123.sst", Offset = 65536,
                    Data = Bytes("sstable bytes"), FileSize = 200000, Last = true,
                },
            }
        },
        {
            "snapshot_chunk_ack", new Envelope
            {
                SnapshotChunkAck = new SnapshotChunkAck
                {
                    GroupId = 12, From = 4, To = 1, SnapshotIndex = 500, SnapshotTerm = 4, FileName = "000123.sst",
                    NextOffset = 65549, Status = SnapshotChunkStatus.Resume, Reason = "gap",
                },
            }
        },
        { "forward_get", Forward(new ForwardRequest { Get = new GetOp { Key = Bytes("k"), Consistency = ReadConsistency.Lease } }) },
        { "forward_put", Forward(new ForwardRequest { Put = new PutOp { Key = Bytes("k"), Value = Bytes("v") } }) },
        { "forward_delete", Forward(new ForwardRequest { Delete = new DeleteOp { Key = Bytes("k") } }) },
        { "forward_cas", Forward(new ForwardRequest { Cas = new CasOp { Key = Bytes("k"), ExpectedVersion = 41, Value = Bytes("v2"), HasValue = true } }) },
        {
            "forward_batch", Forward(new ForwardRequest
            {
                Batch = new BatchOp
                {
                    Items =
                    {
                        new BatchItem { Key = Bytes("a"), Value = Bytes("1"), HasValue = true },
                        new BatchItem { Key = Bytes("b") },
                    },
                },
            })
        },
        { "forward_scan", Forward(new ForwardRequest { Scan = new ScanOp { Start = Bytes("a"), End = Bytes("m"), Limit = 100, Consistency = ReadConsistency.Stale } }) },
        { "forward_transfer_leader", Forward(new ForwardRequest { TransferLeader = new TransferLeaderOp { ToNode = 3 } }) },
        { "forward_split", Forward(new ForwardRequest { Split = new SplitOp { ChildId = 13, SplitAt = 1UL << 63, ExpectedStart = 0, ExpectedEnd = ulong.MaxValue, ExpectedEpoch = 6 } }) },
        { "forward_membership", Forward(new ForwardRequest { Membership = new MembershipOp { Change = MembershipChange.AddLearner, NodeId = 4 } }) },
        { "forward_progress", Forward(new ForwardRequest { Progress = new ProgressOp { NodeId = 4, MaxLag = 100 } }) },
        {
            "forward_response_progress", new Envelope
            {
                ForwardResponse = new ForwardResponse
                {
                    RequestId = 80,
                    Progress = new ProgressResult { CaughtUp = true, Match = 90, Commit = 95, ConfChangePending = true, Voters = { 1, 2, 3 }, Learners = { 4 }, Leader = 1 },
                },
            }
        },
        {
            "forward_response_entries", new Envelope
            {
                ForwardResponse = new ForwardResponse
                {
                    RequestId = 77,
                    Entries = new KvEntries
                    {
                        Entries = { new KvEntry { Key = Bytes("a"), Value = Bytes("1"), Version = 10 }, new KvEntry { Key = Bytes("b"), Value = Bytes("2"), Version = 12 } },
                        NextStart = Bytes("b\0"),
                    },
                },
            }
        },
        { "forward_response_version", new Envelope { ForwardResponse = new ForwardResponse { RequestId = 78, Version = 1234 } } },
        {
            "forward_response_error", new Envelope
            {
                ForwardResponse = new ForwardResponse
                {
                    RequestId = 79,
                    Error = new KvError { Code = ErrorCode.NotLeader, Message = "not leader", LeaderHintNode = 3, CurrentVersion = 8, CurrentEpoch = 6 },
                },
            }
        },
    };

    [Theory]
    [MemberData(nameof(EveryKind))]
    public void Envelope_round_trips_through_a_frame(string name, Envelope envelope)
    {
        var writer = new ArrayBufferWriter<byte>();
        FrameCodec.WriteFrame(writer, envelope);
        var buffer = new ReadOnlySequence<byte>(writer.WrittenMemory);

        FrameCodec.TryReadFrame(ref buffer, FrameCodec.DefaultMaxFrame, out var read).Should().BeTrue(name);

        read.Should().Be(envelope, name);
        read!.KindCase.Should().Be(envelope.KindCase).And.NotBe(Envelope.KindOneofCase.None);
    }

    [Fact]
    public void Round_trip_samples_cover_every_envelope_kind_and_forward_operation()
    {
        var samples = EveryKind().Select(row => (Envelope)row[1]).ToList();

        var kinds = samples.Select(e => e.KindCase).ToHashSet();
        kinds.Should().BeEquivalentTo(Enum.GetValues<Envelope.KindOneofCase>().Where(k => k != Envelope.KindOneofCase.None));

        var ops = samples.Where(e => e.ForwardRequest is not null).Select(e => e.ForwardRequest.OpCase).ToHashSet();
        ops.Should().BeEquivalentTo(Enum.GetValues<ForwardRequest.OpOneofCase>().Where(k => k != ForwardRequest.OpOneofCase.None));

        var results = samples.Where(e => e.ForwardResponse is not null).Select(e => e.ForwardResponse.ResultCase).ToHashSet();
        results.Should().BeEquivalentTo(Enum.GetValues<ForwardResponse.ResultOneofCase>().Where(k => k != ForwardResponse.ResultOneofCase.None));
    }

    [Fact]
    public void Wire_enum_numbers_are_stable()
    {
        // Numbers are the contract with other nodes' binaries; names can be refactored, numbers cannot.
        ((int)RaftMessageType.MsgHup).Should().Be(1);
        ((int)RaftMessageType.MsgTransferLeader).Should().Be(16);
        Enum.GetValues<RaftMessageType>().Should().HaveCount(17);
        ((int)LogEntryType.Normal).Should().Be(0);
        ((int)LogEntryType.ConfChange).Should().Be(1);
        ((int)ReadConsistency.Linearizable).Should().Be(0, "an unset consistency must mean the safe default");
        ((int)ErrorCode.NotLeader).Should().Be(1);
        ((int)ErrorCode.Internal).Should().Be(8);
    }

    private static Envelope Forward(ForwardRequest request)
    {
        request.RequestId = 1001;
        request.ShardId = 12;
        request.Epoch = 6;
        return new Envelope { ForwardRequest = request };
    }
}
