using Akka.Actor;
using LsmRaft.Protocol.Peer;

namespace LsmRaft.Host.DataPlane;

/// <summary>
/// Flushes one <see cref="PeerOutbox"/> to the peer's <see cref="PeerInbox"/>: one Akka.Remote message per batch,
/// without a sender (the batch names its node). Akka.Remote is at-most-once and ordered per node pair; nothing is
/// resent here (Raft retransmits; a forwarded operation fails when the association is lost or its deadline passes).
/// </summary>
internal sealed class PeerOutboxWriter : UntypedActor
{
    private readonly PeerOutbox _outbox;
    private readonly IActorRef _remoteInbox;
    private readonly ulong _self;
    private readonly int _maxBatchBytes;
    private readonly Action<PeerBatch> _send;

    public PeerOutboxWriter(PeerOutbox outbox, IActorRef remoteInbox, ulong self, int maxBatchBytes)
    {
        _outbox = outbox;
        _remoteInbox = remoteInbox;
        _self = self;
        _maxBatchBytes = maxBatchBytes;
        _send = batch => _remoteInbox.Tell(batch, ActorRefs.NoSender);
    }

    /// <summary>Local only (PeerLink's actors are never deployed remotely): exempt from serialize-creators.</summary>
    public static Props Props(PeerOutbox outbox, IActorRef remoteInbox, ulong self, int maxBatchBytes) =>
        Akka.Actor.Props.Create(() => new PeerOutboxWriter(outbox, remoteInbox, self, maxBatchBytes)).WithDeploy(Deploy.Local);

    protected override void OnReceive(object message)
    {
        if (message is Flush)
            _outbox.Flush(_self, _maxBatchBytes, _send);
        else
            Unhandled(message);
    }

    /// <summary>Drain the outbox now (told by the first enqueue after a flush).</summary>
    public sealed class Flush : INoSerializationVerificationNeeded
    {
        public static readonly Flush Instance = new();

        private Flush()
        {
        }
    }
}
