using System.Text.Json;
using LsmRaft.Raft;
using LsmRaft.Storage;
using LsmRaft.Storage.IO;

namespace LsmRaft.Actors.Replica;

/// <summary>
/// The <c>REPLICA</c> file of a replica directory (<c>groups/&lt;id&gt;/REPLICA</c>, JSON): which group the
/// directory holds, the replica's own Raft id (<see cref="ReplicaId"/>), the membership the group started with
/// (used only while its log has no membership of its own) and the hash range it was created for (used only while
/// its engine has no <see cref="ShardDescriptor"/>). Written once, atomically (temp file, fsync, rename, fsync of the
/// directory), before the replica first starts: a directory without it is an incomplete creation and is discarded.
/// A node starts one replica per directory that has this file, with the id the file names and no other: a replica
/// acts as a Raft member only under the exact id its node holds a manifest for (docs/raft.md, "Replica identity").
/// </summary>
/// <param name="ReplicaId">The replica's Raft id; 0 in files written before incarnations existed, which means the node id
/// (incarnation 0, see <see cref="IdOn"/>).</param>
internal sealed record ReplicaManifest(ulong GroupId, ulong[] Voters, ulong[] Learners, ulong RangeStart, ulong RangeEnd, ulong Epoch, ulong ReplicaId = 0)
{
    public const string FileName = "REPLICA";

    public ConfState Members => new(Voters, Learners);

    public ShardDescriptor Range => new(RangeStart, RangeEnd, Epoch);

    /// <summary>The replica's Raft id on node <paramref name="nodeId"/>: the recorded one, or the node id for a file of an earlier version.</summary>
    public ulong IdOn(ulong nodeId) => ReplicaId == 0 ? nodeId : ReplicaId;

    public static ReplicaManifest Create(ulong groupId, ulong replicaId, ConfState members, ShardDescriptor range) =>
        new(groupId, members.Voters.ToArray(), members.Learners.ToArray(), range.Start, range.End, range.Epoch, replicaId == 0
            ? throw new ArgumentOutOfRangeException(nameof(replicaId), "A replica manifest names the replica's Raft id; 0 is none.")
            : replicaId);

    public static bool Exists(IFileSystem fs, string replicaDir) => fs.FileExists(Path.Combine(replicaDir, FileName));

    public void Write(IFileSystem fs, string replicaDir)
    {
        fs.CreateDirectory(replicaDir);
        fs.WriteAtomically(Path.Combine(replicaDir, FileName), JsonSerializer.SerializeToUtf8Bytes(this, new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <exception cref="CorruptionException">The file exists but is not a replica manifest.</exception>
    public static ReplicaManifest? Read(IFileSystem fs, string replicaDir)
    {
        string path = Path.Combine(replicaDir, FileName);
        if (!fs.FileExists(path))
            return null;
        var data = fs.ReadAllBytes(path);
        try
        {
            return JsonSerializer.Deserialize<ReplicaManifest>(data)
                ?? throw new CorruptionException(path, 0, "empty replica manifest");
        }
        catch (JsonException e)
        {
            throw new CorruptionException(path, e.BytePositionInLine ?? 0, $"not a replica manifest: {e.Message}");
        }
    }
}
