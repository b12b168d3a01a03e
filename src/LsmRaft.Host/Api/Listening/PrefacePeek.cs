using System.Buffers;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace LsmRaft.Host.Api.Listening;

/// <summary>
/// Tells an HTTP/2 connection with prior knowledge (RFC 9113 §3.3: it opens with the 24-byte client preface
/// <c>PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n</c>) from an HTTP/1.x one by the connection's first bytes, without consuming them.
/// Kestrel can serve both on one cleartext endpoint only through TLS ALPN; this is the cleartext equivalent.
/// </summary>
internal static class PrefacePeek
{
    private static ReadOnlySpan<byte> Preface => "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8;

    /// <summary>
    /// The protocol the connection speaks, or null when it closed before saying. Reads only as many bytes as the
    /// decision needs (an HTTP/1.x request differs from the preface by its second byte at the latest) and leaves
    /// them in <paramref name="input"/> unconsumed and unexamined, so the next read returns them at once to whoever
    /// serves the connection.
    /// </summary>
    public static async ValueTask<HttpProtocols?> DetectAsync(PipeReader input, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            if (Classify(buffer) is { } protocol)
            {
                // Nothing examined: a pipe answers the next read at once only when some bytes are unexamined
                // (after examining everything even TryRead reports no data until more arrives).
                input.AdvanceTo(buffer.Start);
                return protocol;
            }
            // A proper prefix of the preface: everything examined, so the next read waits for more bytes.
            input.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted || result.IsCanceled)
                return null;
        }
    }

    /// <summary>The protocol the bytes so far decide, or null when they are a proper prefix of the preface (or empty).</summary>
    internal static HttpProtocols? Classify(in ReadOnlySequence<byte> buffer)
    {
        int length = (int)Math.Min(buffer.Length, Preface.Length);
        Span<byte> head = stackalloc byte[Preface.Length];
        buffer.Slice(0, length).CopyTo(head);
        if (!head[..length].SequenceEqual(Preface[..length]))
            return HttpProtocols.Http1;
        return length == Preface.Length ? HttpProtocols.Http2 : null;
    }
}
