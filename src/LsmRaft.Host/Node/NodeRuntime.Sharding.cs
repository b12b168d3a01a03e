using LsmRaft.Actors.Replica;
using LsmRaft.Host.Sharding;
using Akka.Actor;
using LsmRaft.Storage;

namespace LsmRaft.Host.Node;

/// <summary>
/// This node as the host of its replica entities (<see cref="ReplicaSharding"/>): it asks its region to start each
/// replica it holds a manifest for, opens a replica only for an entity whose id matches a manifest here (the guard that
/// keeps a misplaced entity from ever becoming a Raft member), and keeps the registry the data plane delivers through.
/// </summary>
internal sealed partial class NodeRuntime : IReplicaHost
{
    /// <summary>Groups whose start this node asked its region for and whose entity has not registered (or refused) yet; under lock (_replicas).</summary>
    private readonly HashSet<ulong> _starting = new();

    /// <summary>Replica entities that refused to open here, and why (the latest reason per entity).</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<ReplicaEntityId, string> _refused = new();

    /// <summary>
    /// The id this node's replicas have in their groups. Until replica ids become never-reused incarnation ids recorded in
    /// the manifest (issue 11 point 3), a replica's id is its node's id.
    /// </summary>
    private ulong OwnReplicaId => _config.PeerId;

    /// <summary>Replica entities that refused to open on this node, and why (diagnostics and tests).</summary>
    internal IReadOnlyDictionary<ReplicaEntityId, string> RefusedReplicas => _refused;

    /// <summary>The groups this node's region has been asked to start and that have not registered yet, in order.</summary>
    private IReadOnlyList<ulong> StartingReplicas()
    {
        lock (_replicas)
            return _starting.Order().ToList();
    }

    /// <summary>Asks this node's region for the replica of <paramref name="groupId"/> (the entity opens it from the manifest); idempotent.</summary>
    private void RequestReplica(ulong groupId)
    {
        lock (_replicas)
        {
            if (_replicas.TryGet(groupId, out _) || !_starting.Add(groupId))
                return;
        }
        _sharding.Region.Tell(new StartReplicaEntity(_config.PeerId, groupId, OwnReplicaId));
    }

    /// <summary>How long a stop through the region may take before the replica actor is stopped directly.</summary>
    private static readonly TimeSpan RegionStopTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Stops a replica through the region and waits until its entity (and with it the replica actor) has stopped. A region
    /// that cannot deliver (its actor system already shutting down) gets <see cref="RegionStopTimeout"/>; then the replica
    /// actor is stopped directly, so that its engine is closed before the node log is.
    /// </summary>
    private async Task StopThroughRegionAsync(ReplicaHandle replica)
    {
        _sharding.Region.Tell(new StopReplicaEntity(_config.PeerId, replica.GroupId, OwnReplicaId));
        try
        {
            await replica.Stopped.WaitAsync(RegionStopTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            _logger.LogWarning("The replica region did not stop the replica of group {Group} within {Timeout}; stopping its actor directly", replica.GroupId, RegionStopTimeout);
            await _system.StopAsync(replica.Ref).ConfigureAwait(false);
        }
    }

    public ReplicaOpening Open(ulong group, ulong replica)
    {
        if (_stopping)
            return new ReplicaOpening.Refused($"node {_config.NodeName} is shutting down");
        if (replica != OwnReplicaId)
            return new ReplicaOpening.Refused($"replica {replica} is not this node's replica id ({OwnReplicaId})");
        string dir = ReplicaDirectory(group);
        var manifest = ReplicaManifest.Read(_fs, dir);
        if (manifest is null)
            return new ReplicaOpening.Refused($"node {_config.NodeName} holds no manifest for it ('{Path.Combine(dir, ReplicaManifest.FileName)}' does not exist)");
        if (manifest.GroupId != group)
            return new ReplicaOpening.Refused($"'{Path.Combine(dir, ReplicaManifest.FileName)}' names group {manifest.GroupId}");
        if (_replicas.TryGet(group, out _))
            return new ReplicaOpening.Refused($"group {group} already has a running replica on this node");
        var members = manifest.Members;
        var options = new ReplicaOptions
        {
            GroupId = group,
            NodeId = _config.PeerId,
            Directory = dir,
            InitialMembers = members,
            InitialRange = manifest.Range,
            ReplicaCreationLock = _creationLock,
            Metrics = _telemetry?.Raft,
            SplitCreated = created => StartReplica(created.ChildId),
            SplitApplied = OnSplitApplied,
            EngineOptions = new LsmOptions
            {
                FlushThresholdBytes = _config.FlushThresholdBytes,
                BloomFalsePositiveRate = _config.BloomFpp,
                BloomHashFunctions = _config.BloomHashFuncs,
                BlockCache = _blockCache,
                FileSystem = _fs,
                BackgroundScheduler = _background,
                Metrics = _telemetry?.Storage,
                EnableWal = false,
            },
            Seed = unchecked((int)(_config.PeerId * 7919 + group * 104729)) ^ Environment.TickCount,
            StatusChanged = _changed,
            EngineChanged = OnEngineChanged,
            HealthObserver = _health,
            StorageRestarts = _config.StorageRestarts,
            IsNodeLive = id => id == _config.PeerId || _dataPlane!.IsConnected(id),
        };
        var replicaLog = new NodeLogReplicaLog(_log!, group, _fs, dir, members);
        var monitor = new ReplicaMonitor();
        return new ReplicaOpening.Opened(ReplicaActor.Props(options, replicaLog, _dataPlane!, monitor), monitor);
    }

    public bool Register(ReplicaHandle handle)
    {
        lock (_replicas)
        {
            if (_replicas.TryGet(handle.GroupId, out _))
                return false;
            _replicas.Add(handle);
            _starting.Remove(handle.GroupId);
        }
        _changed.Notify();
        return true;
    }

    public void Unregister(ReplicaHandle handle)
    {
        lock (_replicas)
            _replicas.Remove(handle);
        _changed.Notify();
    }

    public void Refused(ulong group, ulong replica, string reason)
    {
        _refused[new ReplicaEntityId(group, replica)] = reason;
        if (replica == OwnReplicaId)
        {
            lock (_replicas)
                _starting.Remove(group);
        }
        _changed.Notify();
    }
}
