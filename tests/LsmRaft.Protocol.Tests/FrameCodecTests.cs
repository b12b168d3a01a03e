using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using Google.Protobuf;
using LsmRaft.Protocol.Framing;
using LsmRaft.Protocol.Peer;

namespace LsmRaft.Protocol.Tests;

public sealed class FrameCodecTests
{
    [Fact]
    public void Frame_encoding_matches_the_golden_bytes()
    {
        // Computed independently: protobuf encoding by hand, CRC32C by a bitwise reference implementation.
        var envelope = new Envelope { HelloReject = new HelloReject { Code = HelloRejectCode.WrongCluster, Reason = "x" } };

        Encode(envelope).Should().Equal(Convert.FromHexString("07000000E8379CA022050802120178"));
    }

    [Fact]
    public void Single_frame_round_trips_and_is_consumed_entirely()
    {
        var envelope = Sample();
        var buffer = new ReadOnlySequence<byte>(Encode(envelope));

        FrameCodec.TryReadFrame(ref buffer, FrameCodec.DefaultMaxFrame, out var read).Should().BeTrue();

        read.Should().Be(envelope);
        buffer.Length.Should().Be(0);
    }

    [Fact]
    public void Many_frames_in_one_buffer_are_read_in_order()
    {
        var envelopes = Enumerable.Range(1, 50).Select(i => Sample(groupId: (ulong)i, payloadBytes: i * 7)).ToList();
        var writer = new ArrayBufferWriter<byte>();
        foreach (var e in envelopes)
            FrameCodec.WriteFrame(writer, e);
        var buffer = new ReadOnlySequence<byte>(writer.WrittenMemory);

        var read = new List<Envelope>();
        while (FrameCodec.TryReadFrame(ref buffer, FrameCodec.DefaultMaxFrame, out var envelope))
            read.Add(envelope);

        read.Should().Equal(envelopes);
        buffer.Length.Should().Be(0);
    }

    [Fact]
    public void Frame_split_across_two_segments_at_every_byte_boundary_is_read_whole()
    {
        var envelope = Sample(payloadBytes: 40);
        var bytes = Encode(envelope);
        for (int cut = 1; cut < bytes.Length; cut++)
        {
            var buffer = SequenceBuilder.Split(bytes, cut);

            FrameCodec.TryReadFrame(ref buffer, FrameCodec.DefaultMaxFrame, out var read).Should().BeTrue("cut at {0}", cut);

            read.Should().Be(envelope);
            buffer.Length.Should().Be(0);
        }
    }

    [Fact]
    public void Frames_with_every_byte_in_its_own_segment_are_read_whole()
    {
        var first = Sample(groupId: 1, payloadBytes: 17);
        var second = Sample(groupId: 2, payloadBytes: 3);
        var buffer = SequenceBuilder.OneBytePerSegment([.. Encode(first), .. Encode(second)]);

        FrameCodec.TryReadFrame(ref buffer, FrameCodec.DefaultMaxFrame, out var readFirst).Should().BeTrue();
        FrameCodec.TryReadFrame(ref buffer, FrameCodec.DefaultMaxFrame, out var readSecond).Should().BeTrue();

        readFirst.Should().Be(first);
        readSecond.Should().Be(second);
        buffer.Length.Should().Be(0);
    }

    [Fact]
    public void Partial_frame_returns_false_and_consumes_nothing()
    {
        var bytes = Encode(Sample(payloadBytes: 30));
        for (int available = 0; available < bytes.Length; available++)
        {
            // Also split, so a partial header spanning segments is covered.
            var prefix = bytes.AsSpan(0, available).ToArray();
            var buffer = available > 1 ? SequenceBuilder.Split(prefix, available / 2) : new ReadOnlySequence<byte>(prefix);
            var before = buffer;

            FrameCodec.TryReadFrame(ref buffer, FrameCodec.DefaultMaxFrame, out _).Should().BeFalse("{0} of {1} bytes", available, bytes.Length);

            buffer.Start.Should().Be(before.Start);
            buffer.Length.Should().Be(available);
        }
    }

    [Fact]
    public void Declared_length_over_the_limit_throws_as_soon_as_the_header_arrives()
    {
        const int maxFrame = 1024;
        foreach (uint declared in new uint[] { maxFrame + 1, int.MaxValue, uint.MaxValue })
        {
            var header = new byte[FrameCodec.HeaderSize];
            BinaryPrimitives.WriteUInt32LittleEndian(header, declared);
            var buffer = new ReadOnlySequence<byte>(header);

            var thrown = FluentActions.Invoking(() => FrameCodec.TryReadFrame(ref buffer, maxFrame, out _))
                .Should().Throw<FrameTooLargeException>().Which;

            thrown.Length.Should().Be(declared);
            thrown.MaxFrame.Should().Be(maxFrame);
            thrown.Should().BeAssignableTo<FrameException>();
        }
    }

    [Fact]
    public void Frame_exactly_at_the_limit_is_accepted()
    {
        var envelope = Sample(payloadBytes: 100);
        int size = envelope.CalculateSize();
        var buffer = new ReadOnlySequence<byte>(Encode(envelope));

        FrameCodec.TryReadFrame(ref buffer, size, out var read).Should().BeTrue();

        read.Should().Be(envelope);
    }

    [Fact]
    public void Writing_an_envelope_over_the_limit_throws_and_writes_nothing()
    {
        var envelope = Sample(payloadBytes: 2000);
        var writer = new ArrayBufferWriter<byte>();

        FluentActions.Invoking(() => FrameCodec.WriteFrame(writer, envelope, maxFrame: 1000)).Should().Throw<FrameTooLargeException>();

        writer.WrittenCount.Should().Be(0);
    }

    [Fact]
    public void Any_flipped_bit_in_payload_or_checksum_is_reported_as_corruption()
    {
        var bytes = Encode(Sample(payloadBytes: 12));
        for (int bit = 4 * 8; bit < bytes.Length * 8; bit++)
        {
            var damaged = bytes.ToArray();
            damaged[bit / 8] ^= (byte)(1 << (bit % 8));
            var buffer = new ReadOnlySequence<byte>(damaged);

            FluentActions.Invoking(() => FrameCodec.TryReadFrame(ref buffer, FrameCodec.DefaultMaxFrame, out _))
                .Should().Throw<FrameCorruptException>("bit {0} flipped", bit);
        }
    }

    [Fact]
    public void Payload_with_a_valid_checksum_that_is_not_an_envelope_is_reported_as_corruption()
    {
        // A field tag followed by a varint that never ends: well-checksummed garbage.
        byte[] payload = [0x08, 0xFF, 0xFF, 0xFF];
        var frame = new byte[FrameCodec.HeaderSize + payload.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(frame, (uint)payload.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(4), Crc32C.Mask(Crc32C.Compute(payload)));
        payload.CopyTo(frame, FrameCodec.HeaderSize);
        var buffer = new ReadOnlySequence<byte>(frame);

        FluentActions.Invoking(() => FrameCodec.TryReadFrame(ref buffer, FrameCodec.DefaultMaxFrame, out _))
            .Should().Throw<FrameCorruptException>().WithInnerException<InvalidProtocolBufferException>();
    }

    [Fact]
    public void Empty_envelope_is_a_valid_zero_length_frame()
    {
        var bytes = Encode(new Envelope());
        bytes.Should().HaveCount(FrameCodec.HeaderSize);
        var buffer = new ReadOnlySequence<byte>(bytes);

        FrameCodec.TryReadFrame(ref buffer, FrameCodec.DefaultMaxFrame, out var read).Should().BeTrue();

        read!.KindCase.Should().Be(Envelope.KindOneofCase.None);
    }

    [Fact]
    public async Task Frames_arriving_through_a_pipe_in_arbitrary_chunks_are_read_back_in_order()
    {
        // The bytes go into the pipe in random-sized chunks, one flush each, so the reader sees frames cut
        // anywhere: inside headers, inside payloads, and several frames per read.
        const int seed = 4242;
        var random = new Random(seed);
        var pipe = new Pipe(new PipeOptions(minimumSegmentSize: 64, useSynchronizationContext: false));
        var sent = Enumerable.Range(0, 200).Select(i => Sample(groupId: (ulong)i, payloadBytes: i % 97)).ToList();
        var stream = new ArrayBufferWriter<byte>();
        foreach (var envelope in sent)
            FrameCodec.WriteFrame(stream, envelope);
        var bytes = stream.WrittenMemory;

        var writing = Task.Run(async () =>
        {
            for (int offset = 0; offset < bytes.Length;)
            {
                int chunk = Math.Min(random.Next(1, 50), bytes.Length - offset);
                await pipe.Writer.WriteAsync(bytes.Slice(offset, chunk));
                offset += chunk;
            }

            await pipe.Writer.CompleteAsync();
        });

        var received = new List<Envelope>();
        while (true)
        {
            var result = await pipe.Reader.ReadAsync();
            var buffer = result.Buffer;
            while (FrameCodec.TryReadFrame(ref buffer, FrameCodec.DefaultMaxFrame, out var envelope))
                received.Add(envelope);
            pipe.Reader.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                buffer.Length.Should().Be(0, "the writer ended on a frame boundary (seed {0})", seed);
                break;
            }
        }

        await pipe.Reader.CompleteAsync();
        await writing;
        received.Should().Equal(sent, "seed {0}", seed);
    }

    private static byte[] Encode(Envelope envelope)
    {
        var writer = new ArrayBufferWriter<byte>();
        FrameCodec.WriteFrame(writer, envelope);
        return writer.WrittenSpan.ToArray();
    }

    private static Envelope Sample(ulong groupId = 7, int payloadBytes = 5) => new()
    {
        RaftMessage = new RaftMessage
        {
            GroupId = groupId,
            Type = RaftMessageType.MsgApp,
            From = 1,
            To = 2,
            Term = 3,
            Index = 10,
            LogTerm = 3,
            Commit = 9,
            Entries = { new LogEntry { Term = 3, Index = 11, Data = ByteString.CopyFrom(Enumerable.Range(0, payloadBytes).Select(i => (byte)i).ToArray()) } },
        },
    };
}
