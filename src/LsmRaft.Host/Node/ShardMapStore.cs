using System.Text.Json;
using LsmRaft.Actors.Replica;
using LsmRaft.Host.Api;
using LsmRaft.Protocol.Cluster;

namespace LsmRaft.Host.Node;

/// <summary>
/// The shard map, owned by the meta group: one meta key, <c>cluster/shard-map</c>, holds every shard (hash
/// range, replicas, learners, epoch), the meta group's own members and incarnations (<see cref="StoredMap.Meta"/>)
/// and the next free shard id as JSON. Every change is a compare-and-set on
/// that key's version (the Raft index that last wrote it), so concurrent operators and nodes serialize through
/// the meta group and the map's version only grows. Each node keeps the latest map it read (a stale read
/// from its own meta replica when it has one, every <see cref="RefreshInterval"/>, and a linearizable read
/// whenever a shard answers that it changed) and a copy in DATA_DIR for restarts.
/// </summary>
/// <remarks>
/// Bootstrap: every node of a new cluster computes the same initial layout; the first to find the key absent
/// writes it (compare-and-set on version 0), the others' writes conflict and they read the winner's.
/// </remarks>
internal sealed class ShardMapStore : IAsyncDisposable
{
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(1);
    private static readonly byte[] Key = "cluster/shard-map"u8.ToArray();
    private const int MaxCasAttempts = 32;

    private readonly RequestRouter _router;
    private readonly ShardInfo _meta;
    private readonly bool _hasLocalMeta;
    private readonly StoredMap? _bootstrap; // null on a node that joined a running cluster: it only reads the map
    private readonly Action<IReadOnlyList<ShardInfo>> _persist;
    private readonly ChangeSignal _changed;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _refreshing = new(1, 1);
    private Task? _loop;
    private Snapshot _current;

    public ShardMapStore(RequestRouter router, ShardInfo meta, bool hasLocalMeta, IReadOnlyList<ShardInfo> bootstrap, ClusterSettings bootstrapSettings, IReadOnlyList<ShardInfo> lastKnown,
        Action<IReadOnlyList<ShardInfo>> persist, ChangeSignal changed, ILogger logger)
    {
        _router = router;
        _meta = meta;
        _hasLocalMeta = hasLocalMeta;
        _bootstrap = bootstrap.Count == 0 ? null : new StoredMap(bootstrap.Max(s => s.Id) + 1, bootstrap.ToArray(), bootstrapSettings, Meta: meta);
        _persist = persist;
        _changed = changed;
        _logger = logger;
        _current = new Snapshot(0, lastKnown.Count == 0 ? null : new ShardMapLookup(lastKnown), _bootstrap?.NextShardId ?? 0, null, NoMarks, null);
    }

    /// <summary>Raised (on a background thread) after the map changed; the node reconciles its replicas.</summary>
    public event Action<IReadOnlyList<ShardInfo>>? Changed;

    /// <summary>The latest map this node knows.</summary>
    public ShardMapLookup Lookup => Volatile.Read(ref _current).Lookup
        ?? throw new ShardUnavailableException(_meta.Id, "this node has not read the shard map from the meta group yet");

    /// <summary>The cluster-wide settings as last read from the meta group; null until then.</summary>
    public ClusterSettings? Settings => Volatile.Read(ref _current).Settings;

    /// <summary>Nodes an operator is draining or removed, as last read from the meta group.</summary>
    public IReadOnlyDictionary<ulong, NodeMark> Marks => Volatile.Read(ref _current).Marks;

    /// <summary>
    /// The meta group (group 0) as the map last read from the meta group lists it: voters, learners, incarnations; null
    /// before this node read the map from the meta group (a copy from DATA_DIR does not hold it).
    /// </summary>
    public ShardInfo? MetaGroup => Volatile.Read(ref _current).Meta;

    /// <summary>
    /// A group of the map as last read: the meta group for <see cref="ClusterLayout.MetaGroupId"/> (the bootstrap layout's
    /// until the map was read), else the shard.
    /// </summary>
    /// <exception cref="ResourceNotFoundException">No shard has that id.</exception>
    public ShardInfo Group(ulong groupId) => groupId == ClusterLayout.MetaGroupId
        ? MetaGroup ?? _meta
        : Lookup.Shards.FirstOrDefault(s => s.Id == groupId) ?? throw new ResourceNotFoundException($"Shard {groupId} does not exist.");

    /// <summary>The latest map, or null before this node first read one (a node that just joined).</summary>
    public ShardMapLookup? TryLookup => Volatile.Read(ref _current).Lookup;

    /// <summary>Version of <see cref="Lookup"/>: the Raft index of the meta write that made it (0 = not read from the meta group yet).</summary>
    public ulong Version => Volatile.Read(ref _current).Version;

    public void Start() => _loop = Task.Run(() => MetaPoll.RunAsync(RefreshInterval,
        token => RefreshAsync(stale: _hasLocalMeta && Version != 0, token), _logger, "Shard map refresh", _stop.Token));

    /// <summary>Reads the map from the meta group now (linearizable unless <paramref name="stale"/>) and adopts it if newer.</summary>
    public async Task RefreshAsync(bool stale, CancellationToken cancellationToken)
    {
        await _refreshing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var stored = await _router.MetaGetAsync(_meta, Key, stale, cancellationToken).ConfigureAwait(false);
            if (stored is null && _bootstrap is not null)
            {
                // A new cluster: offer the layout every node computed; a conflict means another node won.
                try
                {
                    await _router.MetaCompareAndSetAsync(_meta, Key, 0, JsonSerializer.SerializeToUtf8Bytes(_bootstrap), cancellationToken).ConfigureAwait(false);
                }
                catch (VersionConflictException)
                {
                }
                stored = await _router.MetaGetAsync(_meta, Key, stale: false, cancellationToken).ConfigureAwait(false);
            }
            if (stored is { } found)
                Adopt(found.Value, found.Version);
        }
        finally
        {
            _refreshing.Release();
        }
    }

    /// <summary>
    /// Changes the map through the meta group: <paramref name="change"/> gets the current map (read
    /// linearizably) and returns the new one, or null when nothing needs to change; retried on concurrent
    /// changes. Returns the map in effect afterwards.
    /// </summary>
    public async Task<StoredMap> UpdateAsync(Func<StoredMap, StoredMap?> change, CancellationToken cancellationToken)
    {
        for (int attempt = 0; attempt < MaxCasAttempts; attempt++)
        {
            var stored = await _router.MetaGetAsync(_meta, Key, stale: false, cancellationToken).ConfigureAwait(false);
            if (stored is null)
            {
                if (_bootstrap is null)
                    throw new ShardUnavailableException(_meta.Id, "the meta group holds no shard map yet");
                await RefreshAsync(stale: false, cancellationToken).ConfigureAwait(false); // seeds the bootstrap map
                continue;
            }
            var current = Parse(stored.Value.Value);
            Adopt(stored.Value.Value, stored.Value.Version);
            var next = change(current);
            if (next is null)
                return current;
            var encoded = JsonSerializer.SerializeToUtf8Bytes(next);
            try
            {
                ulong version = await _router.MetaCompareAndSetAsync(_meta, Key, stored.Value.Version, encoded, cancellationToken).ConfigureAwait(false);
                Adopt(encoded, version);
                return next;
            }
            catch (VersionConflictException)
            {
                // Another change landed first: read it and apply ours on top.
            }
        }
        throw new ShardUnavailableException(_meta.Id, $"the shard map changed concurrently {MaxCasAttempts} times in a row");
    }

    /// <summary>Records a split in the map (idempotent: every replica of the split shard reports it; the first write wins).</summary>
    public Task RecordSplitAsync(ulong parentId, ulong childId, (ulong Start, ulong End, ulong Epoch) parent, (ulong Start, ulong End, ulong Epoch) child, CancellationToken cancellationToken) =>
        UpdateAsync(map =>
        {
            var old = map.Shards.FirstOrDefault(s => s.Id == parentId);
            if (old is null || old.Epoch >= parent.Epoch || map.Shards.Any(s => s.Id == childId))
                return null;
            var shards = map.Shards.Where(s => s.Id != parentId).ToList();
            shards.Add(old with { RangeStart = parent.Start, RangeEnd = parent.End, Epoch = parent.Epoch });
            shards.Add(new ShardInfo(childId, child.Start, child.End, child.Epoch, old.Replicas, old.Learners, null, old.Incarnations)); // the child keeps its members' Raft ids
            return map with { Shards = shards.OrderBy(s => s.Id).ToArray(), NextShardId = Math.Max(map.NextShardId, childId + 1) };
        }, cancellationToken);

    private void Adopt(byte[] encoded, ulong version)
    {
        var current = Volatile.Read(ref _current);
        if (version <= current.Version)
            return;
        var map = Parse(encoded);
        var next = new Snapshot(version, new ShardMapLookup(map.Shards), map.NextShardId, map.Settings, (map.Marks ?? []).ToDictionary(m => m.Node), map.Meta);
        if (Interlocked.CompareExchange(ref _current, next, current) != current)
            return; // a concurrent adopter won; the loop adopts the newest on its next read
        try
        {
            _persist(map.Shards);
        }
        catch (IOException e)
        {
            _logger.LogWarning("Could not save the shard map copy in DATA_DIR: {Message}", e.Message);
        }
        Changed?.Invoke(map.Shards);
        _changed.Notify();
    }

    /// <summary>The stored map; one written before the map held the meta group gets the bootstrap layout's (<see cref="StoredMap.Meta"/>).</summary>
    private StoredMap Parse(byte[] encoded)
    {
        var map = JsonSerializer.Deserialize<StoredMap>(encoded) ?? throw new JsonException("The shard map in the meta group is empty.");
        return map.Meta is null ? map with { Meta = _meta } : map;
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        if (_loop is not null)
        {
            try
            {
                await _loop.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    /// <summary>
    /// The map as stored in the meta group, with the cluster-wide settings (null in maps written before settings
    /// existed), the operator's marks on nodes (null before any), and the meta group itself.
    /// </summary>
    /// <param name="Meta">
    /// The meta group (id 0) as a shard entry: its voters and learners (nodes) and the incarnations allocated on each, so
    /// a lost meta replica is replaced by a new incarnation through the same compare-and-set as a shard's
    /// (docs/raft.md, "Replica identity", rule 5). Its nodes never change (they are the bootstrap layout's meta voters).
    /// Null in maps written before it existed: read as the bootstrap layout's meta group, all incarnation 0.
    /// </param>
    internal sealed record StoredMap(ulong NextShardId, ShardInfo[] Shards, ClusterSettings? Settings = null, NodeMark[]? Marks = null, ShardInfo? Meta = null)
    {
        /// <summary>The meta group for <see cref="ClusterLayout.MetaGroupId"/>, else the shard with that id.</summary>
        /// <exception cref="ResourceNotFoundException">No shard has that id.</exception>
        public ShardInfo Group(ulong groupId) => groupId == ClusterLayout.MetaGroupId
            ? Meta ?? throw new InvalidOperationException("The map was read without its meta group.")
            : Shards.FirstOrDefault(s => s.Id == groupId) ?? throw new ResourceNotFoundException($"Shard {groupId} does not exist.");

        /// <summary>This map with <paramref name="group"/> (the meta group, or a shard) in place of the entry of the same id.</summary>
        public StoredMap WithGroup(ShardInfo group) => group.Id == ClusterLayout.MetaGroupId
            ? this with { Meta = group }
            : this with { Shards = Shards.Select(s => s.Id == group.Id ? group : s).ToArray() };

        /// <summary>The map with <paramref name="node"/> marked <paramref name="state"/> (null: unmarked), or null when it already is.</summary>
        public StoredMap? WithMark(ulong node, NodeState? state, DateTimeOffset now)
        {
            var current = Marks?.FirstOrDefault(m => m.Node == node);
            if (current?.State == state)
                return null;
            var others = (Marks ?? []).Where(m => m.Node != node);
            return this with { Marks = [.. state is { } s ? others.Append(new NodeMark(node, s, now)) : others] };
        }
    }

    private static readonly IReadOnlyDictionary<ulong, NodeMark> NoMarks = new Dictionary<ulong, NodeMark>();

    private sealed record Snapshot(ulong Version, ShardMapLookup? Lookup, ulong NextShardId, ClusterSettings? Settings, IReadOnlyDictionary<ulong, NodeMark> Marks, ShardInfo? Meta);
}
