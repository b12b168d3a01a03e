using System.Text.Json;
using LsmRaft.Storage.IO;

namespace LsmRaft.Host.Peer;

/// <summary>
/// The node ids this node has admitted, ever: <c>DATA_DIR/seen-peers.json</c>, replaced atomically when a node is
/// admitted for the first time: on the peer port, before the handshake is acknowledged (a node's Raft messages travel on
/// the connection it dials); on the Akka data plane, before the first batch from the node is delivered
/// (<see cref="DataPlane.PeerLink"/>). So a node that ever acted in a group is on record at every peer that heard it. A node that starts with an empty DATA_DIR asks its peers (<c>HelloAck.seen_before</c>): if one of them
/// saw it before, its disk was lost, and it must not create its bootstrap replicas (docs/raft.md, "Replica identity").
/// </summary>
internal sealed class SeenPeers
{
    public const string FileName = "seen-peers.json";

    private readonly IFileSystem _fs;
    private readonly string _path;
    private readonly HashSet<ulong> _seen;
    private readonly object _lock = new();

    public SeenPeers(IFileSystem fs, string dataDir)
    {
        _fs = fs;
        _path = Path.Combine(dataDir, FileName);
        _seen = Load(fs, _path);
    }

    /// <summary>Records <paramref name="nodeId"/> as admitted; true when it had been admitted before.</summary>
    public bool Admit(ulong nodeId)
    {
        lock (_lock)
        {
            if (_seen.Contains(nodeId))
                return true;
            var next = new HashSet<ulong>(_seen) { nodeId };
            _fs.WriteAtomically(_path, JsonSerializer.SerializeToUtf8Bytes(next.Order().ToArray()));
            _seen.Add(nodeId);
            return false;
        }
    }

    private static HashSet<ulong> Load(IFileSystem fs, string path)
    {
        if (!fs.FileExists(path))
            return [];
        try
        {
            return [.. JsonSerializer.Deserialize<ulong[]>(fs.ReadAllBytes(path)) ?? []];
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{path}' is not a list of node ids ({e.Message}); restore it from a backup, or delete it only if no node of this cluster ever lost its DATA_DIR.", e);
        }
    }
}
