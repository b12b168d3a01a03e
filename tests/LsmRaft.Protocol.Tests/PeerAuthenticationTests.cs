using System.Buffers;
using Google.Protobuf;
using LsmRaft.Protocol.Framing;
using LsmRaft.Protocol.Peer;

namespace LsmRaft.Protocol.Tests;

public sealed class PeerAuthenticationTests
{
    private static readonly byte[] Secret = Enumerable.Range(16, 32).Select(i => (byte)i).ToArray();

    [Fact]
    public void Proof_is_hmac_sha256_of_the_nonce_keyed_by_the_secret()
    {
        // Reference value from Python's hmac module: hmac.new(bytes(range(16, 48)), bytes(range(32)), sha256).
        var nonce = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();

        PeerAuthentication.ComputeProof(Secret, nonce).Should()
            .Equal(Convert.FromHexString("3DBA9CE7B37931CDB631D1FC48A4FF9EFD4C7AF090A8658433C6DF65F58BE639"));
    }

    [Fact]
    public void Proof_verifies_only_for_the_same_secret_and_nonce()
    {
        var nonce = PeerAuthentication.CreateNonce();
        var proof = PeerAuthentication.ComputeProof(Secret, nonce);

        PeerAuthentication.VerifyProof(Secret, nonce, proof).Should().BeTrue();
        PeerAuthentication.VerifyProof(Secret, PeerAuthentication.CreateNonce(), proof).Should().BeFalse("a proof must not replay on another connection");
        var otherSecret = Secret.ToArray();
        otherSecret[0] ^= 1;
        PeerAuthentication.VerifyProof(otherSecret, nonce, proof).Should().BeFalse();
        PeerAuthentication.VerifyProof(Secret, nonce, proof.AsSpan(0, 31)).Should().BeFalse();
        PeerAuthentication.VerifyProof(Secret, nonce, ReadOnlySpan<byte>.Empty).Should().BeFalse();
    }

    [Fact]
    public void Nonces_are_fresh_and_of_the_protocol_length()
    {
        var a = PeerAuthentication.CreateNonce();
        var b = PeerAuthentication.CreateNonce();

        a.Should().HaveCount(PeerAuthentication.NonceLength);
        a.Should().NotEqual(b);
    }

    [Fact]
    public void Short_secret_and_wrong_length_nonce_are_refused()
    {
        FluentActions.Invoking(() => PeerAuthentication.ComputeProof(new byte[15], new byte[32]))
            .Should().Throw<ArgumentException>().WithMessage("*at least 16 bytes*");
        FluentActions.Invoking(() => PeerAuthentication.ComputeProof(Secret, new byte[8]))
            .Should().Throw<ArgumentException>().WithMessage("*exactly 32*");
        FluentActions.Invoking(() => PeerAuthentication.VerifyProof(Secret, ReadOnlySpan<byte>.Empty, new byte[32]))
            .Should().Throw<ArgumentException>();
    }

    [Fact]
    public void Handshake_frames_authenticate_both_sides()
    {
        // The exchange of docs/peer-protocol.md, acceptor and dialer sharing only the secret, over real frames.
        var challenge = RoundTrip(new Envelope
        {
            Challenge = new Challenge { Nonce = ByteString.CopyFrom(PeerAuthentication.CreateNonce()), ProtocolVersion = PeerAuthentication.ProtocolVersion, NodeId = 2 },
        }).Challenge;

        var clientNonce = PeerAuthentication.CreateNonce();
        var hello = RoundTrip(new Envelope
        {
            Hello = new Hello
            {
                ClusterId = "c1",
                NodeId = 1,
                ProtocolVersion = PeerAuthentication.ProtocolVersion,
                SecretProof = ByteString.CopyFrom(PeerAuthentication.ComputeProof(Secret, challenge.Nonce.Span)),
                ClientNonce = ByteString.CopyFrom(clientNonce),
            },
        }).Hello;
        PeerAuthentication.VerifyProof(Secret, challenge.Nonce.Span, hello.SecretProof.Span).Should().BeTrue();

        var ack = RoundTrip(new Envelope
        {
            HelloAck = new HelloAck { NodeId = 2, ServerProof = ByteString.CopyFrom(PeerAuthentication.ComputeProof(Secret, hello.ClientNonce.Span)) },
        }).HelloAck;
        PeerAuthentication.VerifyProof(Secret, clientNonce, ack.ServerProof.Span).Should().BeTrue();
    }

    private static Envelope RoundTrip(Envelope envelope)
    {
        var writer = new ArrayBufferWriter<byte>();
        FrameCodec.WriteFrame(writer, envelope);
        var buffer = new ReadOnlySequence<byte>(writer.WrittenMemory);
        FrameCodec.TryReadFrame(ref buffer, FrameCodec.DefaultMaxFrame, out var read).Should().BeTrue();
        return read!;
    }
}
