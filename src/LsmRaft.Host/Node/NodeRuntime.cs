using System.Text;
using System.Text.Json;
using Akka.Actor;
using LsmRaft.Actors.Background;
using LsmRaft.Actors.Log;
using LsmRaft.Raft;
using LsmRaft.Actors.Replica;
using LsmRaft.Host.Api;
using LsmRaft.Host.Config;
using LsmRaft.Host.DataPlane;
using LsmRaft.Host.Metrics;
using LsmRaft.Host.Peer;
using LsmRaft.Protocol.Cluster;
using LsmRaft.Protocol.Peer;
using LsmRaft.Storage;
using LsmRaft.Storage.Cache;
using LsmRaft.Storage.IO;

namespace LsmRaft.Host.Node;

/// <summary>
/// One LsmRaft node: the node log, the replicas of the meta group and of the shards placed here, the
/// peer transport, and the request router behind the HTTP API. Start with <see cref="Start"/>,
/// stop with <see cref="DisposeAsync"/> (graceful: leadership handed away, replicas stopped, engines
/// flushed, the node log closed).
/// </summary>
internal sealed partial class NodeRuntime : IPeerDispatcher, IReadiness, IBackgroundStatus, IAsyncDisposable
{
    private const string LayoutFileName = "cluster.json";
    private const string MapCopyFileName = "shard-map.json";

    private readonly NodeConfig _config;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private readonly NodeTelemetry? _telemetry;
    private readonly ReplicaRegistry _replicas = new();
    private readonly IFileSystem _fs;
    private readonly BlockCache _blockCache = new(64 * 1024 * 1024);
    private readonly BackgroundPipelines _background;
    private readonly ActorSystem _system;
    private readonly Sharding.ReplicaSharding _sharding;
    private NodeLog? _log;
    private PeerTransport? _transport;
    private IDataPlane? _dataPlane; // _transport, or PeerLink with LSMRAFT_DATA_PLANE=akka (snapshots still over _transport)
    private LocalExecutor? _local;
    private PersistedLayout? _layout;
    private ShardMapStore? _maps;
    private volatile bool _stopping;
    private readonly ChangeSignal _changed = new(); // replica status or the node registry changed
    private NodeRegistry? _registry;
    private Membership.ClusterMembership? _membership;
    private readonly ReplicaHealth _health;

    /// <param name="actorSystem">The node's Akka system, created by the host (Akka.Hosting, HOCON in hocon/); not owned.</param>
    /// <param name="fs">Every file of the node (host state, Raft log, engines) goes through it; the real disk by default.</param>
    /// <param name="telemetry">The node's metrics; null: none are kept.</param>
    /// <param name="sharding">The node's replica region, started with the actor system (Akka.Hosting); the runtime attaches to it.</param>
    public NodeRuntime(NodeConfig config, ILoggerFactory loggers, Akka.Actor.ActorSystem actorSystem, Sharding.ReplicaSharding sharding, IFileSystem? fs = null, NodeTelemetry? telemetry = null)
    {
        _sharding = sharding;
        _config = config;
        _fs = fs ?? PhysicalFileSystem.Instance;
        _loggers = loggers;
        _system = actorSystem;
        _telemetry = telemetry;
        _logger = loggers.CreateLogger("lsmraft.node");
        _health = new ReplicaHealth(config.PeerId, _changed, _logger, TimeProvider.System);
        _background = new BackgroundPipelines(actorSystem, BackgroundSettings.FromConfig(actorSystem.Settings.Config));
    }

    /// <summary>The node-wide flush and compaction pipelines every replica's engine runs its background work on.</summary>
    public BackgroundPipelines Background => _background;

    public BackgroundState BackgroundState => _background.GetState();

    public RequestRouter? Router { get; private set; }

    public PeerOptions? PeerOptions { get; private set; }

    /// <summary>What carries this node's Raft traffic and forwarded requests (LSMRAFT_DATA_PLANE).</summary>
    internal IDataPlane? DataPlane => _dataPlane;

    /// <summary>The shard map as this node knows it (owned by the meta group).</summary>
    public ShardMapStore? ShardMaps => _maps;

    public ulong NodeId => _config.PeerId;

    /// <summary>Node names by id, for the cluster view and logs.</summary>
    public NodeNames Names { get; } = new();

    public bool IsReady => Reason is null;

    public Task<bool> WaitUntilReadyAsync(TimeSpan timeout, CancellationToken cancellationToken) =>
        WhenAsync(() => IsReady, timeout, cancellationToken);

    /// <summary>Waits (without polling) until <paramref name="condition"/> over this node's state holds; false at the deadline.</summary>
    public Task<bool> WhenAsync(Func<bool> condition, TimeSpan deadline, CancellationToken cancellationToken = default) =>
        _changed.WaitUntilAsync(condition, deadline, cancellationToken);

    /// <summary>
    /// Why this node cannot serve now, null when it can: every replica here has its storage open and has a leader
    /// (this node, or one this node is connected to; a leader holds its role only with a quorum, CheckQuorum), no
    /// replica here stopped for good, and every other shard of the map has at least one replica on a node this node
    /// is connected to (so a request for any key has somewhere to go).
    /// </summary>
    public string? Reason
    {
        get
        {
            if (_stopping)
                return "the node is shutting down";
            if (_layout is null)
                return "the node is starting";
            if (_health.Failed() is [var failed, ..])
                return $"the replica of group {failed.GroupId} on this node stopped for good after {failed.Failures} failure(s): {failed.Cause}";
            if (StartingReplicas() is [var starting, ..] startingAll)
                return $"{startingAll.Count} replica(s) on this node are starting (group {starting} first): their shard region has not started them yet";
            if (_maps?.TryLookup is not { } map)
                return "the shard map has not been read from the meta group yet";
            foreach (var replica in _replicas.All.OrderBy(r => r.GroupId))
            {
                var health = _health.Of(replica.GroupId);
                if (health is not { Open: true })
                    return health is { LastFailure: { } cause }
                        ? $"the storage of group {replica.GroupId} failed {health.Failures} time(s) and is being restarted: {ReplicaHealth.Describe(cause)}"
                        : $"the storage of group {replica.GroupId} is opening";
                if (replica.Status is not { Leader: not 0 } status)
                    return $"group {replica.GroupId} has no leader yet";
                if (!IsReachable(status.LeaderNode))
                    return $"the leader of group {replica.GroupId}, node {Names.NameOf(status.LeaderNode)}, is not reachable from this node";
            }
            foreach (var shard in map.Shards.OrderBy(s => s.Id))
                if (!_replicas.TryGet(shard.Id, out _) && !shard.Replicas.Any(IsReachable))
                    return $"shard {shard.Id} has no replica on a node reachable from this node (replicas on nodes {string.Join(", ", shard.Replicas.Select(Names.NameOf))})";
            return null;
        }
    }

    /// <summary>
    /// Set once every replica on this node has stopped for good (none started, or all failed): the node can never
    /// serve without an operator, so <c>lsmraft start</c> exits with the reason instead of answering 503 forever.
    /// <see cref="FatalFailure.EngineRefusedOptions"/> tells a configuration the engine refuses from other causes.
    /// </summary>
    public FatalFailure? Fatal
    {
        get
        {
            if (_membership is { Downed: true })
                return new FatalFailure(false, $"node {_config.NodeName} was downed by the cluster's split-brain resolver (it was on the minority side of a partition, " +
                    "or unreachable for longer than akka.cluster.split-brain-resolver.stable-after); its actor system has stopped. Restart it: it rejoins as a new incarnation.", Downed: true);
            var replicas = _replicas.All;
            // Decided only once the region has started (or refused) every replica this node asked for: a replica that
            // registers later may serve, so the first ones failing do not yet mean that every one did.
            if (replicas.Count == 0 || StartingReplicas().Count > 0)
                return null;
            var causes = new List<Exception>();
            foreach (var replica in replicas)
            {
                if (_health.Of(replica.GroupId)?.Stopped is not { } cause)
                    return null;
                causes.Add(cause);
            }
            var distinct = causes.Select(ReplicaHealth.Describe).Distinct().ToList();
            return new FatalFailure(causes.All(c => c is InvalidOptionException),
                $"every replica on node {_config.NodeName} ({replicas.Count}) stopped for good: {string.Join("; ", distinct)}");
        }
    }

    /// <summary>Why a node cannot run at all (see <see cref="Fatal"/>).</summary>
    internal sealed record FatalFailure(bool EngineRefusedOptions, string Reason, bool Downed = false);

    private bool IsReachable(ulong nodeId) => nodeId == _config.PeerId || _dataPlane!.IsConnected(nodeId);

    public void Start()
    {
        StartedAt = DateTimeOffset.UtcNow;
        // Peers are dialled at their PEERS host, or at its LSMRAFT_HOSTS address when it has one.
        var members = _config.Peers.Count > 0
            ? _config.Peers.ToDictionary(p => p.Id, p => new PeerEndpoint(_config.DialHost(p.Host), p.Port))
            : new Dictionary<ulong, PeerEndpoint> { [_config.PeerId] = new PeerEndpoint(AdvertisedHost(), _config.Port) };
        foreach (var peer in _config.EffectivePeers)
            Names.Learn(peer.Id, peer.Name);
        _fs.CreateDirectory(_config.DataDir);
        byte[] secret = PeerSecret();
        bool joining = _config.Join is not null;
        bool fresh = !_fs.FileExists(Path.Combine(_config.DataDir, LayoutFileName));
        if (joining && fresh)
            JoinCluster(members, secret);
        // An empty DATA_DIR on a node its peers admitted before: the disk was lost (docs/raft.md, "Replica identity").
        bool lostData = fresh && !joining && PeersSawThisNodeBefore(members, secret);
        _layout = LoadOrCreateLayout(members.Keys.ToArray());

        PeerOptions = new PeerOptions(_config.PeerId, _config.GroupId, secret, members)
        {
            Names = Names,
            HttpAddress = OwnHttpAddress(members),
            Joining = joining,
            OwnPeerAddress = members[_config.PeerId].ToString(),
            MetaVoters = _layout.MetaVoters,
            Metrics = _telemetry?.Transport,
            Seen = new SeenPeers(_fs, _config.DataDir),
        };
        foreach (var (id, endpoint) in LoadKnownPeers())
            PeerOptions.AddJoined(id, endpoint);
        PeerOptions.PeerAdded += (_, _) => SaveKnownPeers();
        PeerOptions.ConnectionChanged += (_, _) => _changed.Notify(); // readiness depends on which leaders are reachable
        _membership = new Membership.ClusterMembership(_system, _config.PeerId, _changed.Notify, TimeProvider.System);
        _membership.StartBootstrap(BootstrapPlan(), _loggers.CreateLogger("lsmraft.bootstrap"));
        _transport = new PeerTransport(PeerOptions, _loggers.CreateLogger<PeerTransport>());
        _dataPlane = _config.DataPlane == DataPlaneKind.Akka ? StartPeerLink(PeerOptions) : _transport;
        _log = NodeLog.Open(_fs, Path.Combine(_config.DataDir, "raftlog"), new NodeLogOptions { Metrics = _telemetry?.Raft });
        _local = new LocalExecutor(_replicas, _config.RequestTimeout);
        Router = new RequestRouter(_config.PeerId, () => _maps!.Lookup, _local, _dataPlane, _config.RequestTimeout, BuildClusterView)
        {
            RefreshMap = ct => _maps!.RefreshAsync(stale: false, ct),
        };
        var meta = new ShardInfo(ClusterLayout.MetaGroupId, 0, ulong.MaxValue, 1, _layout.MetaVoters, [], null);
        var settings = new ClusterSettings(_config.DownReplicaTimeout.TotalSeconds, _config.Rebalance);
        _maps = new ShardMapStore(Router, meta, _layout.MetaVoters.Contains(_config.PeerId), _layout.Shards, settings, LoadMapCopy() ?? _layout.Shards,
            SaveMapCopy, _changed, _loggers.CreateLogger("lsmraft.shardmap"));

        WriteInitialManifests(meta, lostData);
        ForgetOrphanedLogs();
        _sharding.Attach(this);
        foreach (var dir in _fs.ListDirectories(GroupsDirectory))
            if (ulong.TryParse(dir, out ulong groupId))
                StartReplica(groupId);
        StartPlacement();
        _maps.Start();
        _registry = new NodeRegistry(_config.PeerId,
            () => new NodeRegistry.NodeRecord(_config.PeerId, members[_config.PeerId].ToString(), PeerOptions.HttpAddress, DateTimeOffset.UtcNow, _config.PeerName),
            Router, meta, _layout.MetaVoters.Contains(_config.PeerId), _changed, _loggers.CreateLogger("lsmraft.registry"));
        _registry.Updated += LearnPeers;
        if (_telemetry is not null)
            _ = new ClusterMetrics(_telemetry.MeterFactory, () => _stopping ? null : BuildClusterView());
        _logger.LogInformation("Node {Node} started; its replica region starts its {Replicas} replicas", _config.NodeName, StartingReplicas().Count + _replicas.All.Count);
    }

    /// <summary>
    /// The Akka data plane (<c>LSMRAFT_DATA_PLANE=akka</c>): PeerLink over this node's Akka.Remote association, told every
    /// peer's remoting address (and each node that joins later); snapshot chunks keep going over the peer port.
    /// </summary>
    private PeerLink StartPeerLink(PeerOptions peers)
    {
        var link = new PeerLink(_system, new PeerLinkOptions(_config.PeerId) { Seen = peers.Seen }, this, _transport!, _loggers.CreateLogger<PeerLink>());
        link.ConnectionChanged += (_, _) => _changed.Notify(); // readiness depends on which leaders are reachable
        foreach (var (id, endpoint) in peers.AllPeers)
            link.AddPeer(id, AkkaAddressOf(link.Address, id, endpoint));
        peers.PeerAdded += (id, endpoint) => link.AddPeer(id, AkkaAddressOf(link.Address, id, endpoint));
        _logger.LogInformation("Raft traffic and forwarded requests travel over Akka.Remote (LSMRAFT_DATA_PLANE=akka) from {Address}", link.Address);
        return link;
    }

    /// <summary>
    /// A peer's canonical Akka.Remote address, by the rule its own node uses for itself (AkkaConfig.PublicHost and the
    /// Akka port): the host this node dials it at, and its PEERS Akka port (for a node that joined later: the default
    /// for its peer port). Akka drops messages addressed to any other name of a node.
    /// </summary>
    private Akka.Actor.Address AkkaAddressOf(Akka.Actor.Address self, ulong nodeId, PeerEndpoint endpoint) =>
        new(self.Protocol, self.System, endpoint.Host,
            _config.Peers.FirstOrDefault(p => p.Id == nodeId)?.AkkaPort ?? LsmRaft.Protocol.Cluster.AkkaPorts.DefaultFor(endpoint.Port));

    /// <summary>
    /// The key peers prove in the handshake: the cluster secret, or without one a key derived from GROUP_ID (the origin's
    /// way: it sets no secret), announced by one warning unless the operator acknowledged it with --insecure-dev.
    /// </summary>
    private byte[] PeerSecret()
    {
        if (_config.ClusterSecret is null && (_config.EffectivePeers.Count > 1 || _config.Join is not null) && !_config.InsecureDev)
            _logger.LogWarning("No cluster secret is set: the peer port {Port} and the Akka port {AkkaPort} accept any node that presents the group id '{Group}', which is no secret. " +
                "Set LSMRAFT_CLUSTER_SECRET (--cluster-secret) to the same secret of at least 16 characters on every node to protect them (docs/configuration.md, Security).",
                _config.Port, _config.EffectiveAkkaPort, _config.GroupId);
        return _config.PeerKey;
    }

    private string GroupsDirectory => Path.Combine(_config.DataDir, "groups");

    private string ReplicaDirectory(ulong groupId) => Path.Combine(GroupsDirectory, groupId.ToString());

    /// <summary>
    /// On the first start (and for data directories of versions before REPLICA files) every replica the
    /// bootstrap layout places on this node gets its manifest: the layout's members and range. The first start
    /// then leaves a <see cref="BootstrappedMarker"/> file: a later start creates no empty replica from the layout,
    /// since a bootstrap replica without a directory was retired (moved away), and starting it again would put
    /// back an empty member of the bootstrap configuration that serves stale reads from nothing.
    /// </summary>
    /// <param name="lostData">
    /// This node's DATA_DIR is empty but its peers admitted it before: its replicas may have voted and acknowledged
    /// entries this disk no longer holds, so none is created under its bootstrap id (incarnation 0). The shard groups
    /// and the meta group take the node back as new incarnations (<see cref="ReplicaMover.ReplaceLostAsync"/>).
    /// </param>
    private void WriteInitialManifests(ShardInfo meta, bool lostData)
    {
        _fs.CreateDirectory(GroupsDirectory);
        string marker = Path.Combine(GroupsDirectory, BootstrappedMarker);
        bool bootstrapped = _fs.FileExists(marker) || lostData;
        var initial = _layout!.Shards.Append(meta);
        foreach (var shard in initial)
        {
            if (!shard.Replicas.Contains(_config.PeerId) && !shard.Learners.Contains(_config.PeerId))
                continue;
            string dir = ReplicaDirectory(shard.Id);
            if (ReplicaManifest.Exists(_fs, dir))
                continue;
            bool fresh = !_fs.DirectoryExists(dir) || _fs.ListDirectories(dir).Count == 0;
            if ((fresh && bootstrapped) || (!fresh && !_fs.DirectoryExists(SnapshotFiles.EngineDirectory(dir))))
                continue;
            ReplicaManifest.Create(shard.Id, shard.ReplicaIdOf(_config.PeerId).Value,
                new ConfState(shard.Replicas.Select(n => shard.ReplicaIdOf(n).Value), shard.Learners.Select(n => shard.ReplicaIdOf(n).Value)),
                new ShardDescriptor(shard.RangeStart, shard.RangeEnd, shard.Epoch)).Write(_fs, dir);
        }
        if (!_fs.FileExists(marker))
            _fs.WriteAtomically(marker, []);
    }

    private static readonly TimeSpan SeenProbeTimeout = TimeSpan.FromSeconds(3);

    /// <summary>
    /// Asks every other node of PEERS (one handshake each, in parallel, within <see cref="SeenProbeTimeout"/>) whether it
    /// admitted this node before. True when one did: this node existed with data that is gone. A peer that does not
    /// answer (not started yet: a new cluster) counts as not having seen it.
    /// </summary>
    private bool PeersSawThisNodeBefore(IReadOnlyDictionary<ulong, PeerEndpoint> members, byte[] secret)
    {
        var others = members.Where(m => m.Key != _config.PeerId).ToList();
        if (others.Count == 0)
            return false;
        var options = new PeerOptions(_config.PeerId, _config.GroupId, secret, members) { HandshakeTimeout = SeenProbeTimeout };
        using var deadline = new CancellationTokenSource(SeenProbeTimeout);
        var answers = Task.WhenAll(others.Select(async peer =>
        {
            try
            {
                return (await PeerClient.HelloOnceAsync(options, peer.Value, deadline.Token).ConfigureAwait(false)).SeenBefore ? peer.Key : 0UL;
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or OperationCanceledException or InvalidDataException)
            {
                return 0UL;
            }
        })).GetAwaiter().GetResult();
        var seenBy = answers.Where(id => id != 0).ToList();
        if (seenBy.Count == 0)
            return false;
        _logger.LogWarning("DATA_DIR {DataDir} is empty, but node(s) {Peers} admitted node {Node} before: this node lost its data. It creates none of its " +
            "bootstrap replicas (they may have voted and acknowledged entries that are gone); each shard group takes it back as a new replica " +
            "(a new incarnation, filled by a snapshot), and so does the meta group if this node is one of its voters.",
            _config.DataDir, string.Join(", ", seenBy.Select(Names.NameOf)), _config.NodeName);
        return true;
    }

    /// <summary>
    /// Drops the log of every group that has entries in this node's log but no replica here: retiring deletes the
    /// replica's directory, then forgets its log, and a stop in between leaves the entries behind, where they would
    /// keep every later segment from being deleted. A replica's manifest is always written before its first log
    /// record, so a group without one has no replica that could still need them.
    /// </summary>
    private void ForgetOrphanedLogs()
    {
        foreach (ulong group in _log!.Groups.ToList())
        {
            if (_log.LastIndex(group) == 0 || ReplicaManifest.Exists(_fs, ReplicaDirectory(group)))
                continue;
            _logger.LogInformation("Group {Group}: dropping the log entries of a replica whose retirement a stop interrupted", group);
            _log.ForgetAsync(group, CancellationToken.None).AsTask().GetAwaiter().GetResult();
        }
    }

    /// <summary>Tests: the Raft status of this node's replica of <paramref name="groupId"/> (its own id, the group's members), null without one.</summary>
    internal ReplicaStatus? StatusOf(ulong groupId) => _replicas.TryGet(groupId, out var replica) ? replica.Status : null;

    /// <summary>Tests: whether this node's log holds entries (or a compaction point) of <paramref name="groupId"/>.</summary>
    internal bool LogHoldsEntriesOf(ulong groupId) => _log!.LastIndex(groupId) > 0;

    /// <summary>A file in the groups directory: the bootstrap layout's replicas were created (see <see cref="WriteInitialManifests"/>).</summary>
    private const string BootstrappedMarker = "BOOTSTRAPPED";

    /// <summary>
    /// Starts the replica whose directory holds a <see cref="ReplicaManifest"/>, through the replica region (its entity
    /// opens it and registers it; <see cref="Open"/>); false when there is none (an unfinished creation).
    /// </summary>
    private bool StartReplica(ulong groupId)
    {
        string dir = ReplicaDirectory(groupId);
        var manifest = ReplicaManifest.Read(_fs, dir);
        if (manifest is null)
        {
            _logger.LogWarning("Skipping {Directory}: it has no REPLICA file (a replica whose creation did not finish)", dir);
            return false;
        }
        if (manifest.GroupId != groupId)
            throw new InvalidDataException($"'{Path.Combine(dir, ReplicaManifest.FileName)}' names group {manifest.GroupId} but lives in the directory of group {groupId}.");
        // Under the Raft id the manifest names and no other (docs/raft.md, "Replica identity"). A manifest naming a
        // replica of another node (a data directory copied between nodes) is refused: its replica would speak for a log
        // this node never held. (The entity checks both again when it opens the replica: NodeRuntime.Sharding.)
        ulong replicaId = manifest.IdOn(_config.PeerId);
        if (ReplicaId.NodeOf(replicaId) != _config.PeerId)
        {
            _logger.LogError("Not starting the replica of group {Group}: '{Path}' names replica {Replica}, which belongs to node {Owner}, not to this node ({Node}). " +
                "Was this data directory copied from another node? Remove the group's directory; the placement driver re-creates the replica.",
                groupId, Path.Combine(dir, ReplicaManifest.FileName), ReplicaId.Describe(replicaId), ReplicaId.NodeOf(replicaId), _config.PeerId);
            return false;
        }
        RequestReplica(groupId, replicaId);
        return true;
    }

    /// <summary>Every replica of a split shard reports the split; the map update is idempotent and retried until it lands.</summary>
    private void OnSplitApplied(LsmRaft.Actors.Replica.ApplyResult.Split split)
    {
        var maps = _maps!;
        _ = Task.Run(async () =>
        {
            for (int attempt = 1; !_stopping; attempt++)
            {
                try
                {
                    await maps.RecordSplitAsync(ParentOf(split), split.ChildId, (split.Parent.Start, split.Parent.End, split.Parent.Epoch),
                        (split.Child.Start, split.Child.End, split.Child.Epoch), CancellationToken.None).ConfigureAwait(false);
                    return;
                }
                catch (Exception e) when (e is LsmRaft.Host.Api.KvException or IOException or TimeoutException or OperationCanceledException)
                {
                    _logger.LogDebug("Recording split of shard {Child} in the shard map failed (attempt {Attempt}): {Message}", split.ChildId, attempt, e.Message);
                    await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(100 * attempt, 2000))).ConfigureAwait(false);
                }
            }
        });
    }

    /// <summary>The shard a split came from: the one whose range, before the split, started where the parent's still does.</summary>
    private ulong ParentOf(LsmRaft.Actors.Replica.ApplyResult.Split split) =>
        _maps!.Lookup.Find(split.Parent.Start).Id;

    public void DeliverRaft(ulong groupId, Message message)
    {
        if (_replicas.TryGet(groupId, out var replica))
            replica.Ref.Tell(new ReplicaMessage.Step(message));
    }

    public async Task<LsmRaft.Actors.Replica.SnapshotChunkAck> HandleSnapshotChunkAsync(SnapshotChunkData chunk, CancellationToken cancellationToken)
    {
        if (!_replicas.TryGet(chunk.GroupId, out var replica))
            return new LsmRaft.Actors.Replica.SnapshotChunkAck(false, 0, false, $"node {_config.NodeName} holds no replica of group {chunk.GroupId}");
        return await replica.Ref.RequestAsync<LsmRaft.Actors.Replica.SnapshotChunkAck>(r => new ReplicaMessage.SnapshotChunk(chunk, r), TimeSpan.FromSeconds(30), cancellationToken).ConfigureAwait(false);
    }

    public Task<ForwardResponse> HandleForwardAsync(ForwardRequest request, CancellationToken cancellationToken) =>
        _local!.ExecuteAsync(request, cancellationToken);

    public ClusterView BuildClusterView()
    {
        // Liveness comes from Akka cluster membership and reachability; addresses from the peer handshake and the meta
        // group's registry. An operator's mark (draining, removed) overrides liveness.
        var now = DateTimeOffset.UtcNow;
        var known = _registry?.Known ?? new Dictionary<ulong, NodeRegistry.NodeRecord>();
        var marks = _maps!.Marks;
        var nodes = PeerOptions!.AllPeers
            .OrderBy(p => p.Key)
            .Select(p =>
            {
                var record = known.GetValueOrDefault(p.Key);
                var state = marks.TryGetValue(p.Key, out var mark) ? mark.State : LivenessOf(p.Key, now);
                string http = record?.HttpAddress is { Length: > 0 } h ? h : HttpAddressOf(p.Key);
                return new NodeInfo(p.Key, p.Value.ToString(), http, state, record?.Heartbeat, Names.NameOf(p.Key));
            })
            .ToList();
        var shards = (_maps.TryLookup?.Shards ?? []).OrderBy(s => s.Id).Select(s => s with { Leader = LeaderOf(s.Id) }).ToList();
        return new ClusterView(_config.GroupId, _maps.Version, nodes, shards, _maps.Settings, _health.Failed());
    }

    /// <summary>Up or Down from Akka cluster membership and reachability (<see cref="Membership.ClusterMembership"/>); marks aside.</summary>
    public NodeState LivenessOf(ulong nodeId, DateTimeOffset now) => _membership!.StateOf(nodeId);

    /// <summary>The Akka members as this node sees them (diagnostics for tests and logs).</summary>
    internal IReadOnlyList<string> DescribeMembers() => _membership?.Describe() ?? [];

    /// <summary>
    /// How this node finds or forms the Akka cluster (<see cref="Membership.Bootstrap.BootstrapRule"/>): a node in PEERS
    /// probes the other peers and may form the cluster with a majority of them; a node started with --join (or restarted
    /// after joining that way) probes the join target and every peer it knows, and never forms a cluster of its own; a
    /// node without PEERS counts as PEERS of one (it forms its cluster at once when it knows no other node).
    /// </summary>
    private Membership.Bootstrap.BootstrapPlan BootstrapPlan()
    {
        var settings = Membership.Bootstrap.BootstrapSettings.From(_system.Settings.Config);
        if (_config.Peers.Count > 0)
        {
            var contacts = _config.Peers.Where(p => p.Id != _config.PeerId).Select(p => (_config.DialHost(p.Host), p.AkkaPort)).Distinct().ToList();
            return new(_config.PeerId, _config.Peers.Select(p => p.Id).ToHashSet(), MayForm: true, contacts, settings);
        }
        var others = PeerOptions!.AllPeers.Where(p => p.Key != _config.PeerId).Select(p => (p.Value.Host, LsmRaft.Protocol.Cluster.AkkaPorts.DefaultFor(p.Value.Port)));
        if (_config.Join is not null && PeerEndpoint.TryParse(_config.Join) is { } target)
            others = others.Prepend((_config.DialHost(target.Host), LsmRaft.Protocol.Cluster.AkkaPorts.DefaultFor(target.Port)));
        var known = others.Distinct().ToList();
        // Without PEERS and --join this node founded its cluster alone: PEERS is itself (nodes that joined it later may run it now: it probes them first).
        return _config.Join is null
            ? new(_config.PeerId, new HashSet<ulong> { _config.PeerId }, MayForm: true, known, settings)
            : new(_config.PeerId, new HashSet<ulong>(), MayForm: false, known, settings);
    }

    /// <summary>The group's leader as this node knows it (its own replica's view, else the last leader it routed to).</summary>
    public ulong? LeaderOf(ulong shardId)
    {
        if (_replicas.TryGet(shardId, out var replica) && _health.Of(shardId)?.Stopped is null && replica.Status is { Leader: not 0 } status)
            return status.LeaderNode;
        return Router!.KnownLeaders.TryGetValue(shardId, out var leader) ? leader : null;
    }

    /// <summary>Where clients reach this node: the host it has in PEERS (or the bind address), with HTTP_PORT.</summary>
    private string OwnHttpAddress(IReadOnlyDictionary<ulong, PeerEndpoint> members)
    {
        string host = members.TryGetValue(_config.PeerId, out var self) ? self.Host : _config.BindAddress;
        if (host is "0.0.0.0" or "::")
            host = "127.0.0.1";
        return $"http://{host}:{_config.HttpPort}";
    }

    /// <summary>A node's HTTP address as it announced it in the peer handshake; empty until it connected once.</summary>
    public string HttpAddressOf(ulong nodeId) =>
        nodeId == _config.PeerId ? PeerOptions!.HttpAddress : PeerOptions!.PeerHttpAddresses.GetValueOrDefault(nodeId, "");

    /// <summary>Hands leadership of every group this node leads to another voter, best effort within <paramref name="timeout"/>.</summary>
    public async Task TransferLeadershipAwayAsync(TimeSpan timeout)
    {
        var tasks = new List<Task>();
        foreach (var replica in _replicas.All)
        {
            if (replica.Status is not { Role: RaftRole.Leader } status)
                continue;
            var target = status.Members.Voters.FirstOrDefault(v => v != replica.ReplicaId);
            if (target == 0)
                continue;
            tasks.Add(replica.Ref.RequestAsync<RaftResult>(r => new ReplicaMessage.TransferLeadership(target, r), timeout));
        }
        try
        {
            await Task.WhenAll(tasks).WaitAsync(timeout).ConfigureAwait(false);
            // Let the transferees win their elections before this node's replicas stop answering.
            await WhenAsync(() => !_replicas.All.Any(r => r.Status is { Role: RaftRole.Leader } s && s.Members.Voters.Count > 1), timeout).ConfigureAwait(false);
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException)
        {
            _logger.LogWarning("Leadership transfer before shutdown did not finish: {Message}", e.Message);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stopping = true;
        _membership?.Leaving();
        if (_membership is { Downed: true })
        {
            // Downed: the actor system is stopping on its own (replicas, pipelines); wait for it, then close what is left.
            try
            {
                await _system.WhenTerminated.WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                _logger.LogWarning("The actor system of downed node {Node} did not stop within 30 s", _config.NodeName);
            }
        }
        await StopPlacementAsync().ConfigureAwait(false);
        if (_registry is not null)
            await _registry.DisposeAsync().ConfigureAwait(false);
        if (_membership is not null && !_system.WhenTerminated.IsCompleted)
            await _membership.DisposeAsync().ConfigureAwait(false);
        if (_maps is not null)
            await _maps.DisposeAsync().ConfigureAwait(false);
        await StopReplicasAsync().ConfigureAwait(false);
        if (_dataPlane is PeerLink link)
            await link.DisposeAsync().ConfigureAwait(false);
        if (_transport is not null)
            await _transport.DisposeAsync().ConfigureAwait(false);
        if (_log is not null)
            await _log.DisposeAsync().ConfigureAwait(false);
        // Last: the engines closed above may have needed their final flushes. (A stopped actor system ended the pipelines.)
        if (!_system.WhenTerminated.IsCompleted)
            await _background.DisposeAsync().ConfigureAwait(false);
    }

    private PersistedLayout LoadOrCreateLayout(IReadOnlyList<ulong> nodes)
    {
        string path = Path.Combine(_config.DataDir, LayoutFileName);
        if (_fs.FileExists(path))
        {
            try
            {
                return JsonSerializer.Deserialize<PersistedLayout>(_fs.ReadAllBytes(path))
                    ?? throw new InvalidDataException($"'{path}' is empty; restore it from another node's data directory or start with an empty DATA_DIR.");
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"'{path}' is not a cluster layout ({e.Message}); restore it from another node's data directory or start with an empty DATA_DIR.", e);
            }
        }
        int rf = _config.ReplicationFactor ?? Math.Min(3, nodes.Count);
        var layout = new PersistedLayout(ClusterLayout.MetaVoters(nodes).ToArray(), ClusterLayout.InitialShards(nodes, _config.Shards, rf).ToArray());
        SaveLayout(layout);
        return layout;
    }

    private void SaveLayout(PersistedLayout layout)
    {
        _fs.WriteAtomically(Path.Combine(_config.DataDir, LayoutFileName), JsonSerializer.SerializeToUtf8Bytes(layout, IndentedJson));
    }

    private IReadOnlyList<ShardInfo>? LoadMapCopy()
    {
        string path = Path.Combine(_config.DataDir, MapCopyFileName);
        if (!_fs.FileExists(path))
            return null;
        try
        {
            return JsonSerializer.Deserialize<ShardInfo[]>(_fs.ReadAllBytes(path));
        }
        catch (JsonException e)
        {
            _logger.LogWarning("Ignoring '{Path}' ({Message}); the shard map is read from the meta group", path, e.Message);
            return null;
        }
    }

    private void SaveMapCopy(IReadOnlyList<ShardInfo> shards)
    {
        _fs.WriteAtomically(Path.Combine(_config.DataDir, MapCopyFileName), JsonSerializer.SerializeToUtf8Bytes(shards, IndentedJson));
    }

    /// <summary>
    /// Stops every replica through the region (each entity stops itself and its replica actor) and waits until each has
    /// terminated (its PostStop answered its waiters and closed its engine); then no entity of this node is left behind.
    /// </summary>
    private async Task StopReplicasAsync()
    {
        ReplicaHandle[] all;
        lock (_replicas)
            all = _replicas.All.ToArray();
        if (!_system.WhenTerminated.IsCompleted) // downed: the actor system stopped them already
            await Task.WhenAll(all.Select(StopThroughRegionAsync)).ConfigureAwait(false);
        _sharding.Detach();
    }

    private static readonly JsonSerializerOptions IndentedJson = new() { WriteIndented = true };

    /// <summary>The cluster layout this node started with, kept in DATA_DIR so restarts agree with the first start.</summary>
    internal sealed record PersistedLayout(ulong[] MetaVoters, ShardInfo[] Shards);
}
