using System.Collections.Concurrent;
using Akka.Actor;
using Google.Protobuf;
using LsmRaft.Host.DataPlane;
using LsmRaft.Host.Peer;
using LsmRaft.Protocol.Peer;
using LsmRaft.Raft;
using LsmRaft.Storage.IO;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;
using LsmRaft.Host.Tests.Support;

namespace LsmRaft.Host.Tests.DataPlane;

/// <summary>
/// <see cref="PeerLink"/> between real actor systems talking Akka.Remote over loopback, every message checked for
/// serializability: what it delivers, how much it coalesces, and what a lost association does.
/// </summary>
public sealed class PeerLinkTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly List<ActorSystem> _systems = new();
    private readonly List<IAsyncDisposable> _disposables = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var d in _disposables)
            await d.DisposeAsync();
        foreach (var s in _systems)
            await s.Terminate();
    }

    /// <summary>One node: an actor system, its link, and what the link delivered to it.</summary>
    private sealed record Node(ulong Id, ActorSystem System, PeerLink Link, RecordingDispatcher Received);

    private Node Start(ulong id, RecordingDispatcher? dispatcher = null, SeenPeers? seen = null)
    {
        var system = RemoteSystems.Start();
        _systems.Add(system);
        dispatcher ??= new RecordingDispatcher();
        // Snapshot chunks go to the Kestrel transport; this one knows no peer, so it refuses every chunk.
        var snapshots = new PeerTransport(new PeerOptions(id, "test", new byte[32], new Dictionary<ulong, PeerEndpoint>()), NullLogger<PeerTransport>.Instance);
        var link = new PeerLink(system, new PeerLinkOptions(id) { Seen = seen }, dispatcher, snapshots, NullLogger.Instance);
        _disposables.Add(link);
        _disposables.Add(snapshots);
        return new Node(id, system, link, dispatcher);
    }

    private static void Connect(params Node[] nodes)
    {
        foreach (var a in nodes)
            foreach (var b in nodes)
                a.Link.AddPeer(b.Id, b.Link.Address);
    }

    private static Message App(ulong from, ulong to, ulong index) => new()
    {
        Type = MessageType.App, From = from, To = to, Term = 2, LogTerm = 2, Index = index, Commit = index,
        Entries = [new Entry(2, index + 1, EntryType.Normal, [1, 2, 3])],
    };

    [Fact]
    public async Task A_peer_is_durably_in_seen_peers_before_its_first_raft_message_is_delivered()
    {
        // The Akka data plane's counterpart of the peer port's handshake record: a node wiped later must find itself on
        // record here, so none of its votes or acknowledgements may count before the record is on disk.
        var fs = new MemoryFileSystem();
        const string dataDir = "/data/n2";
        fs.CreateDirectory(dataDir);
        var onRecordAtDelivery = new ConcurrentQueue<bool>();
        var b = Start(2, new RecordingDispatcher { OnDeliver = _ => onRecordAtDelivery.Enqueue(RecordedAfterCrash(fs, dataDir, 1)) }, new SeenPeers(fs, dataDir));
        var a = Start(1);
        Connect(a, b);
        await Poll.UntilAsync(() => a.Link.IsConnected(2), "node 1 is associated with node 2");

        a.Link.Send(7, App(1, 2, 10)).Should().BeTrue();
        await Poll.UntilAsync(() => b.Received.Delivered == 1, "the message is delivered");

        onRecordAtDelivery.Should().Equal([true], "node 1 was on record, synced, when its message was delivered");
        new SeenPeers(fs, dataDir).Admit(1).Should().BeTrue("a node 1 that starts with an empty DATA_DIR is told it was seen before");
    }

    /// <summary>Whether <paramref name="nodeId"/> is in the seen-peers file as it would survive a crash now (fixed seed: only synced data survives).</summary>
    private static bool RecordedAfterCrash(MemoryFileSystem fs, string dataDir, ulong nodeId)
    {
        var afterCrash = fs.CrashCopy(new Random(11));
        string path = Path.Combine(dataDir, SeenPeers.FileName);
        if (!afterCrash.FileExists(path))
            return false;
        try
        {
            return System.Text.Json.JsonSerializer.Deserialize<ulong[]>(afterCrash.ReadAllBytes(path))!.Contains(nodeId);
        }
        catch (System.Text.Json.JsonException)
        {
            return false; // torn: it was not synced
        }
    }

    [Fact]
    public async Task Raft_messages_heartbeats_and_forwarded_operations_reach_the_peer_and_answers_come_back()
    {
        var a = Start(1);
        var b = Start(2);
        Connect(a, b);
        await Poll.UntilAsync(() => a.Link.IsConnected(2) && b.Link.IsConnected(1), "both nodes are associated");

        a.Link.Send(7, App(1, 2, 10)).Should().BeTrue();
        a.Link.Send(8, new Message { Type = MessageType.Heartbeat, From = 1, To = 2, Term = 3, Commit = 5, Index = 99 }).Should().BeTrue();
        b.Link.Send(8, new Message { Type = MessageType.HeartbeatResp, From = 2, To = 1, Term = 3, Index = 99 }).Should().BeTrue();
        var answer = await a.Link.ForwardAsync(2, new ForwardRequest { ShardId = 7, Epoch = 1, Put = new PutOp { Key = ByteString.CopyFromUtf8("four"), Value = ByteString.Empty } }, CancellationToken.None)
            .WaitAsync(TimeSpan.FromSeconds(20));

        answer.Version.Should().Be(4, "the receiving node's answer travels back over the link");
        await Poll.UntilAsync(() => b.Received.Delivered == 2 && a.Received.Delivered == 1, "the Raft messages are delivered");
        var app = b.Received.Raft.Single(r => r.Message.Type == MessageType.App);
        app.Group.Should().Be(7);
        app.Message.Entries.Single().Data.Should().Equal(1, 2, 3);
        b.Received.Raft.Single(r => r.Message.Type == MessageType.Heartbeat).Should().Be((8UL, new Message { Type = MessageType.Heartbeat, From = 1, To = 2, Term = 3, Commit = 5, Index = 99 }));
        a.Received.Raft.Single().Message.Type.Should().Be(MessageType.HeartbeatResp);
        (await a.Link.SendSnapshotChunkAsync(new LsmRaft.Actors.Replica.SnapshotChunkData(7, 1, 2, new RaftSnapshot(new SnapshotMetadata(1, 1, new ConfState([1, 2], [])), []), "f", 0, [], true, true, 1), CancellationToken.None))
            .Reason.Should().Contain("not a peer", "snapshot chunks go to the Kestrel transport, never over Akka");
    }

    [Fact]
    public async Task Messages_queued_while_a_flush_is_pending_travel_together_as_one_Akka_message()
    {
        var a = Start(1);
        var b = Start(2);
        Connect(a, b);
        await Poll.UntilAsync(() => a.Link.IsConnected(2), "node 1 is associated with node 2");
        var (itemsBefore, messagesBefore) = a.Link.SentTo(2);
        const int count = 20_000;

        for (ulong i = 0; i < count; i++)
            a.Link.Send(1 + i % 64, App(1, 2, i));
        await Poll.UntilAsync(() => b.Received.Delivered == count, $"node 2 received all {count} messages");

        var (items, messages) = a.Link.SentTo(2);
        double perMessage = (double)(items - itemsBefore) / (messages - messagesBefore);
        output.WriteLine($"{items - itemsBefore} items in {messages - messagesBefore} Akka messages: {perMessage:F1} per message");
        (items - itemsBefore).Should().BeGreaterThanOrEqualTo(count, "every message went out (with the odd probe answer)");
        perMessage.Should().BeGreaterThanOrEqualTo(8, "a flush drains everything queued since the first enqueue into one batch");
    }

    [Fact]
    public async Task A_lost_association_marks_the_peer_down_and_fails_its_forwarded_operations()
    {
        var a = Start(1);
        var b = Start(2, new RecordingDispatcher(holdForwards: true));
        Connect(a, b);
        await Poll.UntilAsync(() => a.Link.IsConnected(2), "node 1 is associated with node 2");
        var changes = new System.Collections.Concurrent.ConcurrentQueue<(ulong, bool)>();
        a.Link.ConnectionChanged += (node, up) => changes.Enqueue((node, up));
        var pending = a.Link.ForwardAsync(2, new ForwardRequest { ShardId = 1, Epoch = 1, Put = new PutOp { Key = ByteString.CopyFromUtf8("k") } }, CancellationToken.None);
        await Poll.UntilAsync(() => Volatile.Read(ref b.Received.ForwardsSeen) == 1, "node 2 holds the forwarded operation");

        await b.System.Terminate();

        await Poll.UntilAsync(() => !a.Link.IsConnected(2), "node 1 sees the association with node 2 lost");
        changes.Should().Contain((2UL, false));
        await pending.Invoking(p => p.WaitAsync(TimeSpan.FromSeconds(20))).Should().ThrowAsync<IOException>().WithMessage("*association with node 2*lost*");
    }

    [Fact]
    public async Task A_peer_that_appears_later_is_associated_by_the_probes()
    {
        var a = Start(1);
        var b = Start(2);
        a.Link.AddPeer(2, b.Link.Address); // node 2 does not know node 1 yet: node 1's first probe is dropped
        await Poll.UntilAsync(() => a.Link.IsConnected(2), "node 1 is associated (the association itself is up)");
        b.Link.AddPeer(1, a.Link.Address);

        await Poll.UntilAsync(() => b.Link.IsConnected(1), "node 2 hears from node 1");
        b.Link.Send(3, App(2, 1, 1)).Should().BeTrue();
        await Poll.UntilAsync(() => a.Received.Delivered == 1, "node 1 receives node 2's message");
    }

    [Fact]
    public void A_system_without_remoting_or_with_too_small_frames_is_refused_by_name()
    {
        var local = ActorSystem.Create("local");
        _systems.Add(local);
        var snapshots = new PeerTransport(new PeerOptions(1, "test", new byte[32], new Dictionary<ulong, PeerEndpoint>()), NullLogger<PeerTransport>.Instance);
        _disposables.Add(snapshots);

        FluentActions.Invoking(() => new PeerLink(local, new PeerLinkOptions(1), new RecordingDispatcher(), snapshots, NullLogger.Instance))
            .Should().Throw<InvalidOperationException>().WithMessage("*needs Akka.Remote*provider*");
        var small = RemoteSystems.Start("akka.remote.dot-netty.tcp.maximum-frame-size = 128000b");
        _systems.Add(small);
        FluentActions.Invoking(() => new PeerLink(small, new PeerLinkOptions(1), new RecordingDispatcher(), snapshots, NullLogger.Instance))
            .Should().Throw<ArgumentException>().WithMessage("*maximum-frame-size (128000 bytes)*");
    }
}
