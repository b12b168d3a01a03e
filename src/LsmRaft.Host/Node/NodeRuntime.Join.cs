using System.Text.Json;
using LsmRaft.Host.Peer;
using LsmRaft.Storage.IO;

namespace LsmRaft.Host.Node;

/// <summary>
/// Membership of the node set: joining a running cluster (<c>--join host:port</c>) and learning the nodes that
/// joined later. A joining node is admitted by any member that checks its secret proof; it holds no replica
/// at first (the shard map places replicas on it: moves, re-replication, rebalancing) and is never a meta voter.
/// Every node keeps the peers it learned in <c>DATA_DIR/peers.json</c>, so restarts know them before the
/// registry is readable.
/// </summary>
internal sealed partial class NodeRuntime
{
    private const string KnownPeersFileName = "peers.json";
    private static readonly TimeSpan JoinTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// First start with --join: asks the member at the join address to admit this node, then records the members
    /// and the meta voters it answered as this node's layout (no shards of its own).
    /// </summary>
    private void JoinCluster(Dictionary<ulong, PeerEndpoint> members, byte[] secret)
    {
        var target = PeerEndpoint.TryParse(_config.Join!)
            ?? throw new InvalidDataException($"Join address '{_config.Join}' is not host:port.");
        target = target with { Host = _config.DialHost(target.Host) };
        var options = new PeerOptions(_config.PeerId, _config.GroupId, secret, members)
        {
            Joining = true,
            OwnPeerAddress = members[_config.PeerId].ToString(),
        };
        using var deadline = new CancellationTokenSource(JoinTimeout);
        LsmRaft.Protocol.Peer.HelloAck ack;
        try
        {
            ack = PeerClient.HelloOnceAsync(options, target, deadline.Token).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or OperationCanceledException or InvalidDataException)
        {
            throw new InvalidOperationException($"Could not join the cluster through {target}: {e.Message}. Check --join (a member's peer host:port), the cluster id and the cluster secret.", e);
        }
        if (ack.MetaVoters.Count == 0)
            throw new InvalidOperationException($"The node at {target} answered the join without meta voters; it runs an older version or is not a cluster member.");
        foreach (var member in ack.Members)
            if (member.Id != _config.PeerId && PeerEndpoint.TryParse(member.PeerAddress) is { } endpoint)
                members[member.Id] = endpoint;
        SaveLayout(new PersistedLayout([.. ack.MetaVoters], []));
        WriteKnownPeers(members.Where(m => m.Key != _config.PeerId));
        _logger.LogInformation("Node {Node} joined the cluster through {Target}: {Members} members", _config.NodeName, target, members.Count);
    }

    /// <summary>The host other nodes dial for this node when PEERS does not name it: the bind address, or this machine's name.</summary>
    private string AdvertisedHost() =>
        _config.BindAddress is "0.0.0.0" or "::" ? System.Net.Dns.GetHostName() : _config.BindAddress;

    /// <summary>Nodes in the registry that this node has no address for yet (they joined through another member).</summary>
    private void LearnPeers(IReadOnlyDictionary<ulong, NodeRegistry.NodeRecord> records)
    {
        foreach (var record in records.Values)
            Names.Learn(record.Id, record.Name);
        foreach (var record in records.Values)
            if (!PeerOptions!.IsKnown(record.Id) && record.Id != _config.PeerId && PeerEndpoint.TryParse(record.PeerAddress) is { } endpoint
                && PeerOptions.AddJoined(record.Id, endpoint))
                _logger.LogInformation("Learned node {Node} at {Address} from the node registry", Names.NameOf(record.Id), endpoint);
    }

    private IEnumerable<(ulong Id, PeerEndpoint Endpoint)> LoadKnownPeers()
    {
        string path = Path.Combine(_config.DataDir, KnownPeersFileName);
        if (!_fs.FileExists(path))
            yield break;
        Dictionary<string, string>? stored;
        try
        {
            stored = JsonSerializer.Deserialize<Dictionary<string, string>>(_fs.ReadAllBytes(path));
        }
        catch (JsonException e)
        {
            _logger.LogWarning("Ignoring '{Path}' ({Message}); peers are learned from the node registry again", path, e.Message);
            yield break;
        }
        foreach (var (id, address) in stored ?? [])
            if (ulong.TryParse(id, out ulong nodeId) && PeerEndpoint.TryParse(address) is { } endpoint)
                yield return (nodeId, endpoint);
    }

    private void SaveKnownPeers()
    {
        try
        {
            WriteKnownPeers(PeerOptions!.AllPeers.Where(p => p.Key != _config.PeerId));
        }
        catch (IOException e)
        {
            _logger.LogWarning("Could not save the known peers: {Message}", e.Message);
        }
    }

    private void WriteKnownPeers(IEnumerable<KeyValuePair<ulong, PeerEndpoint>> peers) =>
        _fs.WriteAtomically(Path.Combine(_config.DataDir, KnownPeersFileName),
            JsonSerializer.SerializeToUtf8Bytes(peers.ToDictionary(p => p.Key.ToString(), p => p.Value.ToString())));
}
