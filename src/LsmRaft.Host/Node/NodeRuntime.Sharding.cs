using LsmRaft.Actors.Replica;
using LsmRaft.Host.Sharding;
using LsmRaft.Protocol.Cluster;
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
    /// <summary>Replicas (group → replica id) this node asked its region to start whose entity has not registered (or refused) yet; under lock (_replicas).</summary>
    private readonly Dictionary<ulong, ulong> _starting = new();

    /// <summary>Replica entities that refused to open here, and why (the latest reason per entity).</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<ReplicaEntityId, string> _refused = new();

    /// <summary>Replica entities that refused to open on this node, and why (diagnostics and tests).</summary>
    internal IReadOnlyDictionary<ReplicaEntityId, string> RefusedReplicas => _refused;

    /// <summary>The Raft id of this node's running replica of <paramref name="groupId"/>; null when none runs here.</summary>
    internal ulong? ReplicaIdOf(ulong groupId) => _replicas.TryGet(groupId, out var replica) ? replica.ReplicaId : null;

    /// <summary>The groups this node's region has been asked to start and that have not registered yet, in order.</summary>
    private IReadOnlyList<ulong> StartingReplicas()
    {
        lock (_replicas)
            return _starting.Keys.Order().ToList();
    }

    /// <summary>Asks this node's region for replica <paramref name="replicaId"/> of <paramref name="groupId"/> (the entity opens it from the manifest); idempotent.</summary>
    private void RequestReplica(ulong groupId, ulong replicaId)
    {
        lock (_replicas)
        {
            if (_replicas.TryGet(groupId, out _) || !_starting.TryAdd(groupId, replicaId))
                return;
        }
        _sharding.Region.Tell(new StartReplicaEntity(_config.PeerId, groupId, replicaId));
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
        _sharding.Region.Tell(new StopReplicaEntity(_config.PeerId, replica.GroupId, replica.ReplicaId));
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
        if (ReplicaId.NodeOf(replica) != _config.PeerId)
            return new ReplicaOpening.Refused($"replica {ReplicaId.Describe(replica)} belongs to node {ReplicaId.NodeOf(replica)}, not to this node ({_config.PeerId})");
        string dir = ReplicaDirectory(group);
        string path = Path.Combine(dir, ReplicaManifest.FileName);
        var manifest = ReplicaManifest.Read(_fs, dir);
        if (manifest is null)
            return new ReplicaOpening.Refused($"node {_config.NodeName} holds no manifest for it ('{path}' does not exist)");
        if (manifest.GroupId != group)
            return new ReplicaOpening.Refused($"'{path}' names group {manifest.GroupId}");
        if (manifest.IdOn(_config.PeerId) != replica)
            return new ReplicaOpening.Refused($"'{path}' names replica {ReplicaId.Describe(manifest.IdOn(_config.PeerId))} of the group, not this one");
        if (_replicas.TryGet(group, out _))
            return new ReplicaOpening.Refused($"group {group} already has a running replica on this node");
        var members = manifest.Members;
        var options = new ReplicaOptions
        {
            GroupId = group,
            NodeId = replica,
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
            IsNodeLive = node => node == _config.PeerId || _dataPlane!.IsConnected(node),
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
        lock (_replicas)
        {
            if (_starting.TryGetValue(group, out ulong asked) && asked == replica)
                _starting.Remove(group);
        }
        _changed.Notify();
    }
}
