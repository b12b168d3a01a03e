using System.Diagnostics.Metrics;

namespace LsmRaft.Host.Metrics;

/// <summary>
/// Peer traffic of one node: <c>lsmraft.transport.messages</c> (Raft messages, coalesced heartbeats, requests and
/// responses) and <c>lsmraft.transport.bytes</c> (frame bytes), tagged <c>peer</c> (the other node's id) and
/// <c>direction</c> (sent, received). Counted per frame batch, not per message. Meter <see cref="MeterName"/>.
/// </summary>
internal sealed class TransportMetrics
{
    public const string MeterName = "LsmRaft.Transport";

    private static readonly KeyValuePair<string, object?> Sent = new("direction", "sent");
    private static readonly KeyValuePair<string, object?> Received = new("direction", "received");

    private readonly Counter<long> _messages;
    private readonly Counter<long> _bytes;

    public TransportMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _messages = meter.CreateCounter<long>("lsmraft.transport.messages", "{message}", "Messages exchanged with peers, by peer and direction");
        _bytes = meter.CreateCounter<long>("lsmraft.transport.bytes", "By", "Frame bytes exchanged with peers, by peer and direction");
    }

    /// <summary>The tag naming <paramref name="peerId"/>; callers keep it for the connection's life.</summary>
    public static KeyValuePair<string, object?> PeerTag(ulong peerId) => new("peer", peerId.ToString(System.Globalization.CultureInfo.InvariantCulture));

    public void RecordSent(KeyValuePair<string, object?> peer, long messages, long bytes) => Record(peer, Sent, messages, bytes);

    public void RecordReceived(KeyValuePair<string, object?> peer, long messages, long bytes) => Record(peer, Received, messages, bytes);

    private void Record(KeyValuePair<string, object?> peer, KeyValuePair<string, object?> direction, long messages, long bytes)
    {
        if (messages > 0)
            _messages.Add(messages, peer, direction);
        if (bytes > 0)
            _bytes.Add(bytes, peer, direction);
    }
}
