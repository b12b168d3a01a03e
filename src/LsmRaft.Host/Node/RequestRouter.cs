using System.Collections.Concurrent;
using Google.Protobuf;
using LsmRaft.Host.Api;
using LsmRaft.Host.Peer;
using LsmRaft.Protocol.Cluster;
using LsmRaft.Protocol.Peer;
using ApiConsistency = LsmRaft.Host.Api.ReadConsistency;
using WireConsistency = LsmRaft.Protocol.Peer.ReadConsistency;
using KvEntry = LsmRaft.Host.Api.KvEntry;

namespace LsmRaft.Host.Node;

/// <summary>
/// The shard region's request side: hashes each key to its shard and sends the operation to the shard's
/// leader — this node's replica when it leads, otherwise the leader's node over the peer transport —
/// following leader hints (cached per shard) and trying other replicas until the request deadline.
/// A replica that does not lead never applies a request: it answers NOT_LEADER with a hint.
/// </summary>
internal sealed class RequestRouter : IKvService
{
    private readonly ulong _self;
    private readonly Func<ShardMapLookup> _map;
    private readonly LocalExecutor _local;
    private readonly LsmRaft.Host.DataPlane.IDataPlane? _transport;
    private readonly TimeSpan _timeout;
    private readonly Func<ClusterView> _view;
    private readonly ConcurrentDictionary<ulong, ulong> _leaders = new();

    public RequestRouter(ulong self, Func<ShardMapLookup> map, LocalExecutor local, LsmRaft.Host.DataPlane.IDataPlane? transport, TimeSpan timeout, Func<ClusterView> view)
    {
        _self = self;
        _map = map;
        _local = local;
        _transport = transport;
        _timeout = timeout;
        _view = view;
    }

    /// <summary>Re-reads the shard map from the meta group (linearizably); called when a shard answers that it changed.</summary>
    public Func<CancellationToken, Task>? RefreshMap { get; init; }

    /// <summary>How many times one request re-reads the shard map after STALE_EPOCH answers before giving up (within its deadline).</summary>
    private const int MaxMapRefreshes = 40;

    /// <summary>The leader this node last saw for each shard (from answers and hints).</summary>
    public IReadOnlyDictionary<ulong, ulong> KnownLeaders => _leaders;

    public async Task<KvEntry?> GetAsync(byte[] key, ApiConsistency consistency, CancellationToken cancellationToken)
    {
        var get = new GetOp { Key = ByteString.CopyFrom(key), Consistency = ToWire(consistency) };
        var (shard, response) = await RouteKeyAsync(key, s => new ForwardRequest { ShardId = s.Id, Epoch = s.Epoch, Get = get }, consistency == ApiConsistency.Stale, cancellationToken).ConfigureAwait(false);
        if (response.Error is { Code: ErrorCode.KeyNotFound })
            return null;
        ThrowIfError(shard, response);
        var entry = response.Entries.Entries[0];
        return new KvEntry(key, entry.Value.ToByteArray(), entry.Version);
    }

    public async Task<ulong> PutAsync(byte[] key, byte[] value, CancellationToken cancellationToken)
    {
        var put = new PutOp { Key = ByteString.CopyFrom(key), Value = ByteString.CopyFrom(value) };
        var (shard, response) = await RouteKeyAsync(key, s => new ForwardRequest { ShardId = s.Id, Epoch = s.Epoch, Put = put }, false, cancellationToken).ConfigureAwait(false);
        ThrowIfError(shard, response);
        return response.Version;
    }

    public async Task<bool> DeleteAsync(byte[] key, CancellationToken cancellationToken)
    {
        var delete = new DeleteOp { Key = ByteString.CopyFrom(key) };
        var (shard, response) = await RouteKeyAsync(key, s => new ForwardRequest { ShardId = s.Id, Epoch = s.Epoch, Delete = delete }, false, cancellationToken).ConfigureAwait(false);
        if (response.Error is { Code: ErrorCode.KeyNotFound })
            return false;
        ThrowIfError(shard, response);
        return true;
    }

    public async Task<ulong> CompareAndSetAsync(byte[] key, ulong expectedVersion, byte[]? value, CancellationToken cancellationToken)
    {
        var cas = new CasOp { Key = ByteString.CopyFrom(key), ExpectedVersion = expectedVersion, HasValue = value is not null };
        if (value is not null)
            cas.Value = ByteString.CopyFrom(value);
        var (shard, response) = await RouteKeyAsync(key, s => new ForwardRequest { ShardId = s.Id, Epoch = s.Epoch, Cas = cas }, false, cancellationToken).ConfigureAwait(false);
        ThrowIfError(shard, response);
        return response.Version;
    }

    /// <summary>
    /// Routes a single-key operation to the shard owning <paramref name="key"/> in the current map; when the
    /// shard answers STALE_EPOCH (it was split since the map was read) the map is re-read and the operation
    /// re-routed — safe for writes because a shard rejects a key it does not own before applying anything.
    /// </summary>
    private async Task<(ShardInfo Shard, ForwardResponse Response)> RouteKeyAsync(byte[] key, Func<ShardInfo, ForwardRequest> build, bool allowFollower, CancellationToken cancellationToken)
    {
        for (int refresh = 0; ; refresh++)
        {
            var shard = _map().Find(key);
            var response = await RouteAsync(shard, build(shard), allowFollower, cancellationToken).ConfigureAwait(false);
            if (response.Error is not { Code: ErrorCode.StaleEpoch } || !await RefreshAfterStaleAsync(refresh, cancellationToken).ConfigureAwait(false))
            {
                if (RouteTrace.Current is { } trace && !allowFollower && _leaders.TryGetValue(shard.Id, out ulong leader) && leader != _self)
                    trace.ForwardedTo = leader;
                return (shard, response);
            }
        }
    }

    /// <summary>Re-reads the map after a STALE_EPOCH answer (backing off while the meta group catches up); false when out of attempts.</summary>
    private async Task<bool> RefreshAfterStaleAsync(int refresh, CancellationToken cancellationToken)
    {
        if (RefreshMap is null || refresh >= MaxMapRefreshes)
            return false;
        if (refresh > 0)
            await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(10 * refresh, 100)), cancellationToken).ConfigureAwait(false);
        try
        {
            await RefreshMap(cancellationToken).ConfigureAwait(false);
        }
        catch (KvException)
        {
            // The meta group is briefly unavailable: retry with the map we have (the shard answers again).
        }
        return true;
    }

    public async Task BatchAsync(IReadOnlyList<BatchOperation> operations, CancellationToken cancellationToken)
    {
        if (operations.Count == 0)
            return;
        var batch = new BatchOp();
        foreach (var op in operations)
        {
            var item = new BatchItem { Key = ByteString.CopyFrom(op.Key), HasValue = op.Value is not null };
            if (op.Value is not null)
                item.Value = ByteString.CopyFrom(op.Value);
            batch.Items.Add(item);
        }
        for (int refresh = 0; ; refresh++)
        {
            var map = _map();
            var shards = operations.Select(o => map.Find(o.Key)).DistinctBy(s => s.Id).ToList();
            if (shards.Count > 1)
                throw new CrossShardBatchException(shards.Count);
            var shard = shards[0];
            var response = await RouteAsync(shard, new ForwardRequest { ShardId = shard.Id, Epoch = shard.Epoch, Batch = batch }, false, cancellationToken).ConfigureAwait(false);
            if (response.Error is { Code: ErrorCode.StaleEpoch } && await RefreshAfterStaleAsync(refresh, cancellationToken).ConfigureAwait(false))
                continue;
            ThrowIfError(shard, response);
            return;
        }
    }

    /// <summary>
    /// Keys are spread over shards by hash, so a range holds keys of every shard: each shard returns its
    /// first <c>limit</c> keys of the range, and the merge keeps the first <c>limit</c> overall.
    /// </summary>
    public async Task<ScanPage> ScanAsync(ScanRequest request, CancellationToken cancellationToken)
    {
        for (int refresh = 0; ; refresh++)
        {
            try
            {
                return await ScanOnceAsync(request, cancellationToken).ConfigureAwait(false);
            }
            catch (StaleShardException) when (refresh < MaxMapRefreshes && RefreshMap is not null)
            {
                // A shard was split under the scan: read every piece again with the new map.
            }
            await RefreshAfterStaleAsync(refresh, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>One fan-out over the shards of the current map; a shard at another epoch fails it with <see cref="StaleShardException"/>.</summary>
    private async Task<ScanPage> ScanOnceAsync(ScanRequest request, CancellationToken cancellationToken)
    {
        var shards = _map().Shards;
        int limit = Math.Max(1, request.Limit);
        var tasks = shards.Select(async shard =>
        {
            var scan = new ScanOp { Limit = (uint)limit + 1, Consistency = ToWire(request.Consistency) };
            if (request.Start is not null)
                scan.Start = ByteString.CopyFrom(request.Start);
            if (request.End is not null)
                scan.End = ByteString.CopyFrom(request.End);
            var response = await RouteAsync(shard, new ForwardRequest { ShardId = shard.Id, Epoch = shard.Epoch, Scan = scan }, request.Consistency == ApiConsistency.Stale, cancellationToken).ConfigureAwait(false);
            if (response.Error is { Code: ErrorCode.StaleEpoch } stale)
                throw new StaleShardException(shard.Id, stale.Message);
            ThrowIfError(shard, response);
            return response.Entries.Entries;
        }).ToArray();
        var results = await Task.WhenAll(tasks).ConfigureAwait(false);
        var merged = results.SelectMany(r => r)
            .Select(e => new KvEntry(e.Key.ToByteArray(), e.Value.ToByteArray(), e.Version))
            .OrderBy(e => e.Key, LsmRaft.Storage.Format.ByteKeyComparer.Instance)
            .Take(limit + 1)
            .ToList();
        byte[]? next = null;
        if (merged.Count > limit)
        {
            next = merged[limit].Key;
            merged.RemoveAt(limit);
        }
        return new ScanPage(merged, next);
    }

    public ClusterView GetClusterView() => _view();

    /// <summary>Writes <paramref name="key"/> in the meta group (group 0), wherever its leader is.</summary>
    public async Task MetaPutAsync(ShardInfo meta, byte[] key, byte[] value, CancellationToken cancellationToken)
    {
        var request = new ForwardRequest { ShardId = meta.Id, Epoch = meta.Epoch, Put = new PutOp { Key = ByteString.CopyFrom(key), Value = ByteString.CopyFrom(value) } };
        ThrowIfError(meta, await RouteAsync(meta, request, false, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>Reads one meta key: its value and version (the Raft index that wrote it), or null when absent.</summary>
    public async Task<(byte[] Value, ulong Version)?> MetaGetAsync(ShardInfo meta, byte[] key, bool stale, CancellationToken cancellationToken)
    {
        var request = new ForwardRequest { ShardId = meta.Id, Epoch = meta.Epoch, Get = new GetOp { Key = ByteString.CopyFrom(key), Consistency = stale ? WireConsistency.Stale : WireConsistency.Linearizable } };
        var response = await RouteAsync(meta, request, stale, cancellationToken).ConfigureAwait(false);
        if (response.Error is { Code: ErrorCode.KeyNotFound })
            return null;
        ThrowIfError(meta, response);
        var entry = response.Entries.Entries[0];
        return (entry.Value.ToByteArray(), entry.Version);
    }

    /// <summary>Sets a meta key if its version is <paramref name="expectedVersion"/> (0 = absent); the new version, or <see cref="VersionConflictException"/>.</summary>
    public async Task<ulong> MetaCompareAndSetAsync(ShardInfo meta, byte[] key, ulong expectedVersion, byte[] value, CancellationToken cancellationToken)
    {
        var cas = new CasOp { Key = ByteString.CopyFrom(key), ExpectedVersion = expectedVersion, HasValue = true, Value = ByteString.CopyFrom(value) };
        var response = await RouteAsync(meta, new ForwardRequest { ShardId = meta.Id, Epoch = meta.Epoch, Cas = cas }, false, cancellationToken).ConfigureAwait(false);
        ThrowIfError(meta, response);
        return response.Version;
    }

    /// <summary>Asks the shard's leader to split it; the split's Raft index, or <see cref="StaleShardException"/> when the shard changed.</summary>
    public async Task<ulong> SplitAsync(ShardInfo shard, SplitOp split, CancellationToken cancellationToken)
    {
        var response = await RouteAsync(shard, new ForwardRequest { ShardId = shard.Id, Epoch = shard.Epoch, Split = split }, false, cancellationToken).ConfigureAwait(false);
        if (response.Error is { Code: ErrorCode.StaleEpoch } stale)
            throw new StaleShardException(shard.Id, stale.Message);
        ThrowIfError(shard, response);
        return response.Version;
    }

    /// <summary>Has the shard's leader propose one membership change and waits until it is applied; the change's Raft index.</summary>
    public async Task<ulong> ChangeMembershipAsync(ShardInfo shard, MembershipChange change, ulong nodeId, CancellationToken cancellationToken)
    {
        var request = new ForwardRequest { ShardId = shard.Id, Epoch = shard.Epoch, Membership = new MembershipOp { Change = change, NodeId = nodeId } };
        var response = await RouteAsync(shard, request, false, cancellationToken).ConfigureAwait(false);
        ThrowIfError(shard, response);
        return response.Version;
    }

    /// <summary>The shard leader's view of <paramref name="nodeId"/>'s replication progress.</summary>
    public async Task<ProgressResult> GetProgressAsync(ShardInfo shard, ulong nodeId, ulong maxLag, CancellationToken cancellationToken)
    {
        var request = new ForwardRequest { ShardId = shard.Id, Epoch = shard.Epoch, Progress = new ProgressOp { NodeId = nodeId, MaxLag = maxLag } };
        var response = await RouteAsync(shard, request, false, cancellationToken).ConfigureAwait(false);
        ThrowIfError(shard, response);
        return response.Progress;
    }

    /// <summary>
    /// Asks <paramref name="node"/> itself (no leader, no hints) about its replica of the shard: its Raft id
    /// (<see cref="ProgressResult.Replica"/>) and its own commit index (<see cref="ProgressResult.Commit"/>).
    /// </summary>
    public async Task<ProgressResult> GetReplicaProgressAsync(ShardInfo shard, ulong node, CancellationToken cancellationToken)
    {
        var request = new ForwardRequest { ShardId = shard.Id, Epoch = shard.Epoch, Progress = new ProgressOp { Local = true } };
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_timeout);
        var response = node == _self || _transport is null
            ? await _local.ExecuteAsync(request, deadline.Token).ConfigureAwait(false)
            : await _transport.ForwardAsync(node, request, deadline.Token).ConfigureAwait(false);
        ThrowIfError(shard, response);
        return response.Progress;
    }

    /// <summary>Reads the meta group's keys in [start, end); stale reads are served by any meta replica.</summary>
    public async Task<IReadOnlyList<(byte[] Key, byte[] Value)>> MetaScanAsync(ShardInfo meta, byte[] start, byte[] end, bool stale, CancellationToken cancellationToken)
    {
        var scan = new ScanOp { Start = ByteString.CopyFrom(start), End = ByteString.CopyFrom(end), Limit = 10_000, Consistency = stale ? WireConsistency.Stale : WireConsistency.Linearizable };
        var response = await RouteAsync(meta, new ForwardRequest { ShardId = meta.Id, Epoch = meta.Epoch, Scan = scan }, stale, cancellationToken).ConfigureAwait(false);
        ThrowIfError(meta, response);
        return response.Entries.Entries.Select(e => (e.Key.ToByteArray(), e.Value.ToByteArray())).ToList();
    }

    /// <summary>Asks the shard's leader (wherever it is) to hand leadership to <paramref name="toNode"/>.</summary>
    public async Task TransferLeaderAsync(ShardInfo shard, ulong toNode, CancellationToken cancellationToken)
    {
        var request = new ForwardRequest { ShardId = shard.Id, Epoch = shard.Epoch, TransferLeader = new TransferLeaderOp { ToNode = toNode } };
        var response = await RouteAsync(shard, request, false, cancellationToken).ConfigureAwait(false);
        ThrowIfError(shard, response);
        _leaders.TryRemove(shard.Id, out _);
    }

    /// <summary>Sends <paramref name="request"/> to the shard's leader, following hints until the deadline.</summary>
    private async Task<ForwardResponse> RouteAsync(ShardInfo shard, ForwardRequest request, bool allowFollower, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_timeout);
        var token = deadline.Token;
        int attempt = 0;
        ulong target = PickTarget(shard, allowFollower);
        string lastProblem = "no replica answered";
        while (true)
        {
            token.ThrowIfCancellationRequested();
            ForwardResponse response;
            try
            {
                response = target == _self || _transport is null
                    ? await _local.ExecuteAsync(request, token).ConfigureAwait(false)
                    : await _transport.ForwardAsync(target, request.Clone(), token).ConfigureAwait(false);
            }
            catch (IOException e)
            {
                lastProblem = $"node {target} is unreachable ({e.Message})";
                response = new ForwardResponse { Error = new KvError { Code = ErrorCode.NotLeader } };
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new ShardUnavailableException(shard.Id, $"no leader answered within {_timeout.TotalSeconds:0.#} s ({lastProblem})");
            }

            if (response.Error is not { Code: ErrorCode.NotLeader or ErrorCode.Unavailable } error)
            {
                _leaders[shard.Id] = target;
                return response;
            }
            lastProblem = error.Code == ErrorCode.Unavailable ? error.Message : $"node {target} answered not-leader (leader hint: {(error.LeaderHintNode == 0 ? "none" : error.LeaderHintNode)})";
            attempt++;
            if (error.LeaderHintNode != 0 && error.LeaderHintNode != target && (shard.Replicas.Contains(error.LeaderHintNode) || shard.Learners.Contains(error.LeaderHintNode)))
            {
                target = error.LeaderHintNode;
                _leaders[shard.Id] = target;
                continue;
            }
            _leaders.TryRemove(shard.Id, out _);
            // No hint: an election is likely under way. Back off briefly, then try the next replica.
            target = shard.Replicas[attempt % shard.Replicas.Count];
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(20 * attempt, 200)), token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new ShardUnavailableException(shard.Id, $"no leader answered within {_timeout.TotalSeconds:0.#} s ({lastProblem})");
            }
        }
    }

    private ulong PickTarget(ShardInfo shard, bool allowFollower)
    {
        if (allowFollower && shard.Replicas.Contains(_self))
            return _self;
        if (_leaders.TryGetValue(shard.Id, out var leader))
            return leader;
        return shard.Replicas.Contains(_self) ? _self : shard.Replicas[0];
    }

    private static void ThrowIfError(ShardInfo shard, ForwardResponse response)
    {
        if (response.Error is not { } error)
            return;
        throw error.Code switch
        {
            ErrorCode.VersionConflict => new VersionConflictException(error.CurrentVersion),
            ErrorCode.BadRequest => new BadRequestException(error.Message),
            ErrorCode.Overloaded => new OverloadedException(error.Message),
            ErrorCode.KeyNotFound => new BadRequestException("The key does not exist."),
            ErrorCode.StaleEpoch => new StaleShardException(shard.Id, error.Message),
            _ => new ShardUnavailableException(shard.Id, error.Message),
        };
    }

    private static WireConsistency ToWire(ApiConsistency consistency) => consistency switch
    {
        ApiConsistency.Lease => WireConsistency.Lease,
        ApiConsistency.Stale => WireConsistency.Stale,
        _ => WireConsistency.Linearizable,
    };
}
