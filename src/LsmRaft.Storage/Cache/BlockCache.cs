namespace LsmRaft.Storage.Cache;

/// <summary>
/// A byte-budgeted LRU cache of SSTable blocks that any number of engines may share (one per node).
/// Sharded 16 ways by key hash so readers on different cores rarely contend on a lock.
/// </summary>
public sealed class BlockCache
{
    private const int ShardCount = 16;
    private readonly Shard[] _shards;
    private long _nextId;
    private long _hits;
    private long _misses;

    public BlockCache(long capacityBytes)
    {
        if (capacityBytes < 0)
            throw new InvalidOptionException(nameof(capacityBytes), "must not be negative");
        CapacityBytes = capacityBytes;
        _shards = new Shard[ShardCount];
        for (int i = 0; i < ShardCount; i++)
            _shards[i] = new Shard(capacityBytes / ShardCount);
    }

    public long CapacityBytes { get; }

    public long Hits => Interlocked.Read(ref _hits);

    public long Misses => Interlocked.Read(ref _misses);

    public long UsageBytes => _shards.Sum(s => s.Usage);

    /// <summary>A fresh id that namespaces one table's blocks inside this cache.</summary>
    internal ulong NewId() => (ulong)Interlocked.Increment(ref _nextId);

    internal bool TryGet(ulong owner, long offset, out object value)
    {
        var key = new CacheKey(owner, offset);
        if (ShardOf(key).TryGet(key, out value))
        {
            Interlocked.Increment(ref _hits);
            return true;
        }
        Interlocked.Increment(ref _misses);
        return false;
    }

    /// <summary>Inserts a value charged at <paramref name="charge"/> bytes, evicting least-recently-used entries.</summary>
    internal void Insert(ulong owner, long offset, object value, int charge)
    {
        var key = new CacheKey(owner, offset);
        ShardOf(key).Insert(key, value, charge);
    }

    /// <summary>Drops every block of <paramref name="owner"/> (a table that was deleted).</summary>
    internal void EraseOwner(ulong owner)
    {
        foreach (var shard in _shards)
            shard.EraseOwner(owner);
    }

    private Shard ShardOf(in CacheKey key) => _shards[(int)((uint)key.GetHashCode() % ShardCount)];

    private readonly record struct CacheKey(ulong Owner, long Offset);

    private sealed class Shard
    {
        private readonly long _capacity;
        private readonly Dictionary<CacheKey, LinkedListNode<Entry>> _map = new();
        private readonly LinkedList<Entry> _lru = new();
        private long _usage;

        public Shard(long capacity) => _capacity = capacity;

        public long Usage
        {
            get { lock (_map) return _usage; }
        }

        public bool TryGet(CacheKey key, out object value)
        {
            lock (_map)
            {
                if (_map.TryGetValue(key, out var node))
                {
                    _lru.Remove(node);
                    _lru.AddFirst(node);
                    value = node.Value.Value;
                    return true;
                }
            }
            value = null!;
            return false;
        }

        public void Insert(CacheKey key, object value, int charge)
        {
            if (charge > _capacity)
                return;
            lock (_map)
            {
                if (_map.Remove(key, out var old))
                {
                    _lru.Remove(old);
                    _usage -= old.Value.Charge;
                }
                var node = _lru.AddFirst(new Entry(key, value, charge));
                _map[key] = node;
                _usage += charge;
                while (_usage > _capacity && _lru.Last is { } last)
                {
                    _lru.RemoveLast();
                    _map.Remove(last.Value.Key);
                    _usage -= last.Value.Charge;
                }
            }
        }

        public void EraseOwner(ulong owner)
        {
            lock (_map)
            {
                var node = _lru.First;
                while (node is not null)
                {
                    var next = node.Next;
                    if (node.Value.Key.Owner == owner)
                    {
                        _lru.Remove(node);
                        _map.Remove(node.Value.Key);
                        _usage -= node.Value.Charge;
                    }
                    node = next;
                }
            }
        }

        private readonly record struct Entry(CacheKey Key, object Value, int Charge);
    }
}
