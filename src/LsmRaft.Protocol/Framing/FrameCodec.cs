using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using Google.Protobuf;
using LsmRaft.Protocol.Peer;

namespace LsmRaft.Protocol.Framing;

/// <summary>
/// Frames on a peer connection (docs/peer-protocol.md):
/// <code>[u32 LE payload length][u32 LE masked CRC32C of payload][payload = Envelope bytes]</code>
/// Stateless and allocation-light; the caller owns the pipe. Any <see cref="FrameException"/> means the
/// connection is out of sync and must be dropped.
/// </summary>
public static class FrameCodec
{
    /// <summary>Bytes before the payload: length and masked CRC.</summary>
    public const int HeaderSize = 8;

    /// <summary>Default limit on a frame's payload: large enough for a snapshot chunk or a full Raft batch.</summary>
    public const int DefaultMaxFrame = 16 * 1024 * 1024;

    /// <summary>
    /// Reads one frame from the start of <paramref name="buffer"/>. On success, slices the frame off
    /// <paramref name="buffer"/> and returns true; when the buffer holds only part of a frame, leaves it untouched
    /// and returns false (read more and call again). The length is checked against <paramref name="maxFrame"/> as
    /// soon as the header is in, so an oversize frame is refused before its payload is buffered.
    /// </summary>
    /// <exception cref="FrameTooLargeException">The declared payload length exceeds <paramref name="maxFrame"/>.</exception>
    /// <exception cref="FrameCorruptException">The CRC does not match, or the payload is not an Envelope.</exception>
    public static bool TryReadFrame(ref ReadOnlySequence<byte> buffer, int maxFrame, [MaybeNullWhen(false)] out Envelope envelope)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxFrame);
        envelope = null;
        if (buffer.Length < HeaderSize)
            return false;

        Span<byte> header = stackalloc byte[HeaderSize];
        buffer.Slice(0, HeaderSize).CopyTo(header);
        uint length = BinaryPrimitives.ReadUInt32LittleEndian(header);
        uint storedCrc = BinaryPrimitives.ReadUInt32LittleEndian(header.Slice(4));
        if (length > (uint)maxFrame)
            throw new FrameTooLargeException(length, maxFrame);

        if (buffer.Length - HeaderSize < length)
            return false;

        var payload = buffer.Slice(HeaderSize, length);
        uint actualCrc = Crc32C.Compute(payload);
        uint expectedCrc = Crc32C.Unmask(storedCrc);
        if (actualCrc != expectedCrc)
            throw new FrameCorruptException($"Peer frame CRC mismatch: header says 0x{expectedCrc:X8}, {length}-byte payload has 0x{actualCrc:X8}.");

        try
        {
            envelope = Envelope.Parser.ParseFrom(payload);
        }
        catch (InvalidProtocolBufferException ex)
        {
            // The CRC held, so the bytes are what the sender wrote: it sent something that is not an Envelope.
            throw new FrameCorruptException($"Peer frame of {length} bytes passed its CRC but is not a valid Envelope: {ex.Message}", ex);
        }

        buffer = buffer.Slice(payload.End);
        return true;
    }

    /// <summary>Writes <paramref name="envelope"/> as one frame and advances <paramref name="writer"/> past it.</summary>
    /// <exception cref="FrameTooLargeException">The encoded envelope exceeds <paramref name="maxFrame"/>; nothing is written.</exception>
    public static void WriteFrame(IBufferWriter<byte> writer, Envelope envelope, int maxFrame = DefaultMaxFrame)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(envelope);
        ArgumentOutOfRangeException.ThrowIfNegative(maxFrame);

        // Refusing here rather than letting the receiver drop the connection names the cause at its source.
        int length = envelope.CalculateSize();
        if (length > maxFrame)
            throw new FrameTooLargeException(length, maxFrame);

        var frame = writer.GetSpan(HeaderSize + length).Slice(0, HeaderSize + length);
        var payload = frame.Slice(HeaderSize);
        envelope.WriteTo(payload);
        BinaryPrimitives.WriteUInt32LittleEndian(frame, (uint)length);
        BinaryPrimitives.WriteUInt32LittleEndian(frame.Slice(4), Crc32C.Mask(Crc32C.Compute(payload)));
        writer.Advance(HeaderSize + length);
    }
}
