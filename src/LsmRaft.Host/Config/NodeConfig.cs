using System.Globalization;
using LsmRaft.Host.Api;
using LsmRaft.Protocol.Cluster;

namespace LsmRaft.Host.Config;

/// <summary>
/// A member of the initial cluster as <c>PEERS</c> lists it: <c>id:host:port</c> (the peer port), or
/// <c>id:host:port:akkaPort</c> when its Akka.Remote port is not the default one (<see cref="AkkaPorts"/>), where the id
/// is an integer or a name (see <see cref="NodeIds"/>); <see cref="Id"/> is the number either maps to.
/// </summary>
public sealed record PeerAddress(ulong Id, string Host, int Port)
{
    /// <summary>The id as PEERS writes it: a name (<c>n1</c>) or the integer.</summary>
    public string Name { get; init; } = Id.ToString(CultureInfo.InvariantCulture);

    /// <summary>The node's Akka.Remote port as PEERS gives it; null: the default for its peer port.</summary>
    public int? ExplicitAkkaPort { get; init; }

    /// <summary>Where the node's Akka.Remote endpoint listens.</summary>
    public int AkkaPort => ExplicitAkkaPort ?? AkkaPorts.DefaultFor(Port);

    public override string ToString() => ExplicitAkkaPort is { } akka ? $"{Name}:{Host}:{Port}:{akka}" : $"{Name}:{Host}:{Port}";
}

/// <summary>
/// Every setting of a node with its default. <see cref="ConfigLoader"/> fills it from defaults &lt; JSON file &lt;
/// environment &lt; flags and validates it; docs/configuration.md lists each setting with its names.
/// </summary>
public sealed record NodeConfig
{
    public const string DefaultGroupId = "lsmraft";

    /// <summary>This node's id (a name's id when PEER_ID is a name, see <see cref="NodeIds"/>); must appear in <see cref="Peers"/> when that is not empty. PEER_ID.</summary>
    public ulong PeerId { get; init; } = 1;

    /// <summary>PEER_ID when it is a name (<c>n1</c>); null when it is an integer.</summary>
    public string? PeerName { get; init; }

    /// <summary>How logs, the CLI and <c>/v1/cluster</c> name this node: its name, or its integer id.</summary>
    public string NodeName => PeerName ?? PeerId.ToString(CultureInfo.InvariantCulture);

    /// <summary>Port of the peer protocol. PORT.</summary>
    public int Port { get; init; } = 8080;

    /// <summary>Port of Akka.Remote (cluster membership); null: <see cref="AkkaPorts.DefaultFor"/> of <see cref="Port"/>. AKKA_PORT.</summary>
    public int? AkkaPort { get; init; }

    /// <summary>Where this node's Akka.Remote endpoint listens.</summary>
    public int EffectiveAkkaPort => AkkaPort ?? AkkaPorts.DefaultFor(Port);

    /// <summary>Port of the HTTP API. HTTP_PORT.</summary>
    public int HttpPort { get; init; } = 8081;

    /// <summary>The cluster id; nodes of another cluster id are refused. GROUP_ID.</summary>
    public string GroupId { get; init; } = DefaultGroupId;

    /// <summary>The initial members (this node included); empty = a single-node cluster of this node. PEERS.</summary>
    public IReadOnlyList<PeerAddress> Peers { get; init; } = [];

    /// <summary>Where the node keeps its data. DATA_DIR; default /data in a container, else ./data.</summary>
    public string DataDir { get; init; } = "./data";

    /// <summary>Memtable size that triggers a flush to an SSTable. FLUSH_THRESHOLD_BYTES.</summary>
    public long FlushThresholdBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>Bloom filter false-positive rate, in (0, 0.5]. BLOOM_FPP.</summary>
    public double BloomFpp { get; init; } = 0.02;

    /// <summary>Bloom filter hash functions; null = derived from <see cref="BloomFpp"/>. BLOOM_HASH_FUNCS.</summary>
    public int? BloomHashFuncs { get; init; }

    /// <summary>Shards created per initial node at bootstrap.</summary>
    public int Shards { get; init; } = 4;

    /// <summary>Replicas per shard; null = min(3, nodes).</summary>
    public int? ReplicationFactor { get; init; }

    /// <summary>Shared secret that authenticates peers; without one, peers authenticate by <see cref="GroupId"/> alone (a warning at start).</summary>
    public string? ClusterSecret { get; init; }

    /// <summary>
    /// The key both peer ports (Kestrel's peer protocol on PORT, Akka.Remote on AKKA_PORT) make every connection prove:
    /// the cluster secret, or without one a key derived from GROUP_ID (the origin's way: it sets no secret).
    /// </summary>
    public byte[] PeerKey => ClusterSecret is { } secret
        ? System.Text.Encoding.UTF8.GetBytes(secret)
        : LsmRaft.Protocol.Peer.PeerAuthentication.GroupIdKey(GroupId);

    /// <summary>Acknowledges running without a secret on a trusted machine: the start-up warning about it is not logged.</summary>
    public bool InsecureDev { get; init; }

    /// <summary>
    /// Host names mapped to IP addresses for dialling peers (LSMRAFT_HOSTS, e.g. <c>n1=127.0.0.1</c>), consulted before
    /// DNS, so the origin's <c>PEERS=n1:n1:8761,...</c> runs verbatim outside a container network. Keys ignore case.
    /// </summary>
    public IReadOnlyDictionary<string, string> Hosts { get; init; } = NoHosts;

    /// <summary>The empty <see cref="Hosts"/> (one instance, never changed, so configurations compare equal).</summary>
    internal static readonly IReadOnlyDictionary<string, string> NoHosts = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    /// <summary><c>host:port</c> (peer port) of a running member to join through, instead of bootstrapping from <see cref="Peers"/>.</summary>
    public string? Join { get; init; }

    public int MaxInFlightRequests { get; init; } = 1024;

    public int MaxKeyBytes { get; init; } = 64 * 1024;

    public int MaxValueBytes { get; init; } = 1024 * 1024;

    public long MaxBodyBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>How long a node may be down before its replicas are re-created on other nodes.</summary>
    public TimeSpan DownReplicaTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Move replicas from the live node holding the most to the one holding the fewest when they differ by two or more (e.g. after a node joined).</summary>
    public bool Rebalance { get; init; } = true;

    /// <summary>What carries Raft traffic and forwarded operations between nodes (docs/configuration.md, "Data plane").</summary>
    public DataPlaneKind DataPlane { get; init; } = DataPlaneKind.Kestrel;

    /// <summary>The address both ports listen on: 0.0.0.0 for <c>start</c>, 127.0.0.1 for <c>demo</c>.</summary>
    public string BindAddress { get; init; } = "0.0.0.0";

    /// <summary>Deadline of one client request inside the node (routing, replication, apply).</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Retry-After (seconds) on 429 and 503 answers.</summary>
    public int RetryAfterSeconds { get; init; } = 1;

    /// <summary>When set, admin endpoints require it as a bearer token.</summary>
    public string? AdminToken { get; init; }

    /// <summary>Longest graceful shutdown (leadership transfer, draining, flush) before the process exits anyway.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Compactions running at once on this node; null = HOCON <c>lsmraft.background.compaction-parallelism</c>.</summary>
    public int? CompactionParallelism { get; init; }

    /// <summary>Compaction input bytes per second on this node, 0 = unlimited; null = HOCON <c>lsmraft.background.compaction-bytes-per-second</c>.</summary>
    public long? CompactionBytesPerSecond { get; init; }

    /// <summary>Keep metrics and serve them on <c>GET /metrics</c> (Prometheus); off, the endpoint answers 404.</summary>
    public bool Metrics { get; init; } = true;

    /// <summary>HOCON placed in front of every other Akka setting of this node (not a setting; tests add the throttler adapter or shorter timeouts).</summary>
    internal string? AkkaHocon { get; init; }

    /// <summary>How a replica's failing storage is restarted before it is given up (not a setting; tests shorten it).</summary>
    internal LsmRaft.Actors.Replica.RestartPolicy StorageRestarts { get; init; } = LsmRaft.Actors.Replica.RestartPolicy.Default;

    /// <summary>The initial members, this node alone (on loopback) when <see cref="Peers"/> is empty.</summary>
    public IReadOnlyList<PeerAddress> EffectivePeers => Peers.Count > 0 ? Peers : [new PeerAddress(PeerId, "127.0.0.1", Port) { Name = NodeName, ExplicitAkkaPort = AkkaPort }];

    /// <summary>The address to dial for <paramref name="host"/>: its <see cref="Hosts"/> entry, else the host itself (DNS resolves it).</summary>
    public string DialHost(string host) => Hosts.TryGetValue(host, out var address) ? address : host;

    public int EffectiveReplicationFactor => ReplicationFactor ?? Math.Min(3, EffectivePeers.Count);

    public ApiOptions ToApiOptions() => new()
    {
        MaxInFlightRequests = MaxInFlightRequests,
        MaxKeyBytes = MaxKeyBytes,
        MaxValueBytes = MaxValueBytes,
        MaxBodyBytes = MaxBodyBytes,
        RetryAfterSeconds = RetryAfterSeconds,
        AdminToken = AdminToken,
    };
}
