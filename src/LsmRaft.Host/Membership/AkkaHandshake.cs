using System.Buffers.Binary;
using System.Security.Cryptography;
using Google.Protobuf;
using LsmRaft.Protocol.Peer;

namespace LsmRaft.Host.Membership;

/// <summary>
/// The frames of the handshake <see cref="AuthenticatedTransport"/> runs on every new Akka.Remote connection before
/// Akka sees it. Each frame is one transport payload: a 4-byte magic (<c>LRA</c> + version 1), a 1-byte kind, then
/// 32 bytes (a nonce or a proof):
/// <code>
/// dialler  -> listener  Hello(nonce_d)
/// listener -> dialler   Challenge(nonce_l)
/// dialler  -> listener  Proof(HMAC(dialler key, nonce_l))     the listener verifies first: strangers learn nothing
/// listener -> dialler   Proof(HMAC(listener key, nonce_d))
/// </code>
/// The dialler and listener keys are derived from the cluster key with different labels, so a proof obtained from one
/// side can never be replayed (reflected) to the other. Proofs use <see cref="PeerAuthentication"/>, the Kestrel peer
/// transport's HMAC, with fresh nonces from the OS generator.
/// </summary>
internal static class AkkaHandshake
{
    public const uint Magic = 0x4C524101; // "LRA" + version 1
    public const int FrameLength = 4 + 1 + PeerAuthentication.NonceLength;

    public enum Kind : byte
    {
        Hello = 1,
        Challenge = 2,
        Proof = 3,
    }

    /// <summary>The key each side proves with: HMAC-SHA256(cluster key, label), labels distinct per side.</summary>
    public static byte[] SideKey(byte[] clusterKey, bool dialler) =>
        HMACSHA256.HashData(clusterKey, dialler ? "lsmraft-akka-dialler-v1"u8 : "lsmraft-akka-listener-v1"u8);

    public static ByteString Frame(Kind kind, ReadOnlySpan<byte> body)
    {
        var frame = new byte[FrameLength];
        BinaryPrimitives.WriteUInt32BigEndian(frame, Magic);
        frame[4] = (byte)kind;
        body.CopyTo(frame.AsSpan(5));
        return ByteString.CopyFrom(frame);
    }

    /// <summary>The frame's 32-byte body when it is a handshake frame of <paramref name="expected"/> kind; null otherwise.</summary>
    public static byte[]? Read(ByteString payload, Kind expected)
    {
        var span = payload.Span;
        if (span.Length != FrameLength || BinaryPrimitives.ReadUInt32BigEndian(span) != Magic || span[4] != (byte)expected)
            return null;
        return span[5..].ToArray();
    }

    public static ByteString Proof(byte[] sideKey, byte[] nonce) => Frame(Kind.Proof, PeerAuthentication.ComputeProof(sideKey, nonce));

    public static bool Verify(byte[] sideKey, byte[] nonce, byte[]? proof) =>
        proof is not null && PeerAuthentication.VerifyProof(sideKey, nonce, proof);
}
