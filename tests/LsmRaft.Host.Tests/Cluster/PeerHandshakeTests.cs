using System.IO.Pipelines;
using System.Net.Sockets;
using Google.Protobuf;
using LsmRaft.Protocol.Framing;
using LsmRaft.Protocol.Peer;

namespace LsmRaft.Host.Tests.Cluster;

/// <summary>The peer port refuses strangers: another cluster id, a wrong secret, an unknown node id that does not ask to join, a joiner without the secret, a joiner without a peer address, a joiner claiming the acceptor's own id.</summary>
public sealed class PeerHandshakeTests(PeerHandshakeTests.ClusterFixture fixture) : IClassFixture<PeerHandshakeTests.ClusterFixture>
{
    /// <summary>One cluster for every case: the handshake does not change it.</summary>
    public sealed class ClusterFixture : IAsyncLifetime
    {
        internal InProcessCluster Cluster { get; private set; } = null!;

        public async Task InitializeAsync() => Cluster = await InProcessCluster.StartAsync(3, shardsPerNode: 1);

        public async Task DisposeAsync() => await Cluster.DisposeAsync();
    }

    [Theory]
    [InlineData("other-cluster", "test-cluster-secret-0123456789", 2UL, HelloRejectCode.WrongCluster, null)]
    [InlineData("lsmraft", "not-the-secret-of-this-cluster", 2UL, HelloRejectCode.BadProof, null)]
    [InlineData("lsmraft", "test-cluster-secret-0123456789", 99UL, HelloRejectCode.UnknownNode, null)]
    [InlineData("lsmraft", "not-the-secret-of-this-cluster", 99UL, HelloRejectCode.BadProof, "127.0.0.1:1")]
    [InlineData("lsmraft", "test-cluster-secret-0123456789", 99UL, HelloRejectCode.ProtocolError, "no-port")]
    [InlineData("lsmraft", "test-cluster-secret-0123456789", 1UL, HelloRejectCode.UnknownNode, "127.0.0.1:1")]
    public async Task A_peer_with_the_wrong_identity_is_refused(string clusterId, string secret, ulong nodeId, HelloRejectCode expected, string? joiningFrom)
    {
        var answer = await HelloAsync(fixture.Cluster.Configs[0].Port, clusterId, System.Text.Encoding.UTF8.GetBytes(secret), nodeId, joiningFrom);
        answer.KindCase.Should().Be(Envelope.KindOneofCase.HelloReject);
        answer.HelloReject.Code.Should().Be(expected, answer.HelloReject.Reason);
    }

    /// <summary>Connects to a peer port, answers its challenge with a Hello made of these values, and returns its answer.</summary>
    internal static async Task<Envelope> HelloAsync(int port, string clusterId, byte[] secret, ulong nodeId, string? joiningFrom = null)
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync("127.0.0.1", port);
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        var reader = PipeReader.Create(stream);
        var writer = PipeWriter.Create(stream);

        var challenge = await ReadAsync(reader);
        challenge.KindCase.Should().Be(Envelope.KindOneofCase.Challenge);
        FrameCodec.WriteFrame(writer, new Envelope
        {
            Hello = new Hello
            {
                ClusterId = clusterId,
                NodeId = nodeId,
                ProtocolVersion = PeerAuthentication.ProtocolVersion,
                SecretProof = ByteString.CopyFrom(PeerAuthentication.ComputeProof(secret, challenge.Challenge.Nonce.Span)),
                ClientNonce = ByteString.CopyFrom(PeerAuthentication.CreateNonce()),
                Joining = joiningFrom is not null,
                PeerAddress = joiningFrom ?? "",
            },
        });
        await writer.FlushAsync();
        return await ReadAsync(reader);
    }

    private static async Task<Envelope> ReadAsync(PipeReader reader)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (true)
        {
            var result = await reader.ReadAsync(timeout.Token);
            var buffer = result.Buffer;
            if (FrameCodec.TryReadFrame(ref buffer, FrameCodec.DefaultMaxFrame, out var envelope))
            {
                reader.AdvanceTo(buffer.Start);
                return envelope;
            }
            reader.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
                throw new EndOfStreamException("the node closed the connection without answering");
        }
    }
}
