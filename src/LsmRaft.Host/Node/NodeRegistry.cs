using System.Text;
using System.Text.Json;
using LsmRaft.Actors.Replica;
using LsmRaft.Host.Api;
using LsmRaft.Protocol.Cluster;

namespace LsmRaft.Host.Node;

/// <summary>
/// Node addresses kept in the meta group (group 0): every node writes <c>node/&lt;id&gt;</c> = {peer address,
/// HTTP address, time written} every <see cref="HeartbeatInterval"/>, and reads the whole registry back
/// (a stale read from its own meta replica when it has one), so that nodes learn of members that joined through
/// another node. Liveness does not come from here: Akka cluster membership decides it (ClusterMembership).
/// </summary>
internal sealed class NodeRegistry : IAsyncDisposable
{
    public static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(1);
    private static readonly byte[] Prefix = "node/"u8.ToArray();
    private static readonly byte[] PrefixEnd = "node0"u8.ToArray(); // '0' follows '/': the end of the "node/" range

    private readonly ulong _self;
    private readonly Func<NodeRecord> _describe;
    private readonly RequestRouter _router;
    private readonly ShardInfo _meta;
    private readonly bool _hasLocalMeta;
    private readonly ChangeSignal _changed;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private IReadOnlyDictionary<ulong, NodeRecord> _known = new Dictionary<ulong, NodeRecord>();

    public NodeRegistry(ulong self, Func<NodeRecord> describe, RequestRouter router, ShardInfo meta, bool hasLocalMeta, ChangeSignal changed, ILogger logger)
    {
        _changed = changed;
        _self = self;
        _describe = describe;
        _router = router;
        _meta = meta;
        _hasLocalMeta = hasLocalMeta;
        _logger = logger;
        _loop = Task.Run(() => MetaPoll.RunAsync(HeartbeatInterval, HeartbeatAsync, _logger, "Node registry update", _stop.Token));
    }

    /// <summary>Raised after each successful read of the registry.</summary>
    public event Action<IReadOnlyDictionary<ulong, NodeRecord>>? Updated;

    /// <summary>The registry as last read from the meta group (empty until the first read succeeds).</summary>
    public IReadOnlyDictionary<ulong, NodeRecord> Known => Volatile.Read(ref _known);

    /// <summary>One round: write this node's heartbeat, then read the whole registry back.</summary>
    private async Task HeartbeatAsync(CancellationToken token)
    {
        var record = _describe() with { Heartbeat = DateTimeOffset.UtcNow };
        await _router.MetaPutAsync(_meta, Key(_self), JsonSerializer.SerializeToUtf8Bytes(record), token).ConfigureAwait(false);
        var rows = await _router.MetaScanAsync(_meta, Prefix, PrefixEnd, stale: _hasLocalMeta, token).ConfigureAwait(false);
        var known = new Dictionary<ulong, NodeRecord>();
        foreach (var (_, value) in rows)
            if (JsonSerializer.Deserialize<NodeRecord>(value) is { } r)
                known[r.Id] = r;
        Volatile.Write(ref _known, known);
        Updated?.Invoke(known);
        _changed.Notify();
    }

    private static byte[] Key(ulong id) => Encoding.ASCII.GetBytes($"node/{id:D20}");

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>What a node says about itself in the registry.</summary>
    /// <param name="Name">PEER_ID when it is a name; null for an integer id (and from nodes of earlier versions).</param>
    internal sealed record NodeRecord(ulong Id, string PeerAddress, string HttpAddress, DateTimeOffset Heartbeat, string? Name = null);
}
