using System.Threading.Channels;
using LsmRaft.Protocol.Cluster;
using LsmRaft.Protocol.Monitoring;

namespace LsmRaft.Host.Monitoring;

/// <summary>
/// Turns successive cluster views into numbered <see cref="ClusterEvent"/>s and hands them to every subscriber
/// (the SSE streams of <c>/v1/events</c>). Keeps the last <see cref="RecentCapacity"/> events so a reader that
/// reconnects with Last-Event-ID misses nothing that is still kept. A subscriber that falls
/// <see cref="SubscriberCapacity"/> events behind is disconnected (its stream ends; it reconnects and resumes)
/// rather than buffering without bound.
/// </summary>
internal sealed class ClusterEventFeed
{
    public const int RecentCapacity = 256;
    public const int SubscriberCapacity = 1024;

    private readonly ulong _self;
    private readonly Lock _lock = new();
    private readonly Queue<ClusterEvent> _recent = new();
    private readonly List<Channel<ClusterEvent>> _subscribers = [];
    private ClusterView? _last;
    private long _sequence;

    public ClusterEventFeed(ulong self) => _self = self;

    /// <summary>The latest view observed (null before the first).</summary>
    public ClusterView? Current
    {
        get { lock (_lock) return _last; }
    }

    /// <summary>The kept events, oldest first.</summary>
    public IReadOnlyList<ClusterEvent> Recent
    {
        get { lock (_lock) return _recent.ToArray(); }
    }

    /// <summary>Records <paramref name="view"/>: publishes the changes since the previous view (none for the first). Returns them.</summary>
    public IReadOnlyList<ClusterEvent> Observe(ClusterView view, DateTimeOffset now)
    {
        lock (_lock)
        {
            var previous = _last;
            _last = view;
            if (previous is null)
                return [];
            var published = new List<ClusterEvent>();
            foreach (var change in ClusterEventDiff.Between(previous, view))
            {
                var e = new ClusterEvent(++_sequence, now, change.Kind, change.NodeId, change.ShardId, change.Before, change.After, change.Text);
                published.Add(e);
                _recent.Enqueue(e);
                if (_recent.Count > RecentCapacity)
                    _recent.Dequeue();
                for (int i = _subscribers.Count - 1; i >= 0; i--)
                {
                    if (!_subscribers[i].Writer.TryWrite(e))
                    {
                        _subscribers[i].Writer.TryComplete(new InvalidOperationException(
                            $"the reader fell {SubscriberCapacity} events behind; reconnect with Last-Event-ID to resume"));
                        _subscribers.RemoveAt(i);
                    }
                }
            }
            return published;
        }
    }

    /// <summary>
    /// A new reader: first a <see cref="ClusterEventKinds.Snapshot"/> of the current view (when there is one), then the
    /// kept events after <paramref name="afterSequence"/> (when given), then every new event. Dispose to unsubscribe.
    /// </summary>
    public Subscription Subscribe(long? afterSequence, DateTimeOffset now)
    {
        var channel = Channel.CreateBounded<ClusterEvent>(new BoundedChannelOptions(SubscriberCapacity + RecentCapacity + 1)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait, // TryWrite fails when full; Observe then drops the reader
        });
        lock (_lock)
        {
            if (_last is not null)
            {
                var snapshot = ClusterEventDiff.Snapshot(_self, _last);
                channel.Writer.TryWrite(new ClusterEvent(_sequence, now, snapshot.Kind, snapshot.NodeId, null, snapshot.Before, snapshot.After, snapshot.Text));
            }
            if (afterSequence is { } after)
                foreach (var e in _recent)
                    if (e.Sequence > after)
                        channel.Writer.TryWrite(e);
            _subscribers.Add(channel);
        }
        return new Subscription(this, channel);
    }

    private void Unsubscribe(Channel<ClusterEvent> channel)
    {
        lock (_lock)
            _subscribers.Remove(channel);
        channel.Writer.TryComplete();
    }

    /// <summary>One reader's events; <see cref="Reader"/> completes with an error when the reader was dropped for falling behind.</summary>
    internal sealed class Subscription(ClusterEventFeed feed, Channel<ClusterEvent> channel) : IDisposable
    {
        public ChannelReader<ClusterEvent> Reader => channel.Reader;

        public void Dispose() => feed.Unsubscribe(channel);
    }
}
