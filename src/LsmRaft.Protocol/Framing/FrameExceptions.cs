namespace LsmRaft.Protocol.Framing;

/// <summary>
/// The peer stream can no longer be trusted to be in sync: the connection must be dropped (and redialled).
/// Never retry the read on the same connection.
/// </summary>
public abstract class FrameException : IOException
{
    private protected FrameException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}

/// <summary>A frame declares a payload longer than the receiver's (or the sender's) frame size limit.</summary>
public sealed class FrameTooLargeException : FrameException
{
    public FrameTooLargeException(long length, int maxFrame)
        : base($"Peer frame of {length} bytes exceeds the {maxFrame}-byte limit; raise the peer max frame size on both nodes or send smaller batches.")
    {
        Length = length;
        MaxFrame = maxFrame;
    }

    /// <summary>The payload length the frame declared.</summary>
    public long Length { get; }

    public int MaxFrame { get; }
}

/// <summary>A frame's payload does not match its CRC, or matches it but is not a valid Envelope.</summary>
public sealed class FrameCorruptException : FrameException
{
    public FrameCorruptException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}
