using LsmRaft.Raft;
using LsmRaft.Storage;
using LsmRaft.Storage.IO;

namespace LsmRaft.Actors.Replica;

/// <summary>
/// Creates a split's new shard next to the parent replica (<c>groups/&lt;child id&gt;/</c>): an engine holding
/// the moved rows and the child's <see cref="ShardDescriptor"/>, flushed (the WAL is off), then the
/// <see cref="ReplicaManifest"/> naming the parent's membership at the split — its presence is what makes
/// the child exist. The child's replica here keeps this replica's Raft id (identity is per group: the child is a
/// new group whose members are the parent's at the split). Then the host is told to start the child's replica. The child's Raft log starts empty:
/// its state before index 1 is this copy, which every replica of the parent makes from the same entry.
/// </summary>
internal sealed class SplitChildCreator(ReplicaOptions options, Func<ulong, ConfState> membersAt) : ISplitChildFactory
{
    private const long RowsPerWrite = 4096;

    private IFileSystem Fs => options.EngineOptions.FileSystem;

    private string ChildDirectory(ulong childId) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(options.Directory))!, childId.ToString());

    public bool TryCreate(ulong splitIndex, SplitRequest split, IEnumerable<KeyValuePair<byte[], byte[]>> rows)
    {
        // The host creates replicas under the same lock, so a child is made by exactly one of them.
        lock (options.ReplicaCreationLock)
        {
            if (ReplicaManifest.Exists(Fs, ChildDirectory(split.ChildId)))
                return false;
            Create(splitIndex, split, rows);
            return true;
        }
    }

    private void Create(ulong splitIndex, SplitRequest split, IEnumerable<KeyValuePair<byte[], byte[]>> rows)
    {
        string dir = ChildDirectory(split.ChildId);
        Fs.DeleteDirectory(dir); // a creation interrupted by a crash left no manifest: start over
        Fs.CreateDirectory(dir);
        using (var engine = LsmEngine.Open(SnapshotFiles.EngineDirectory(dir), options.EngineOptions with { EnableWal = false }))
        {
            var batch = new WriteBatch();
            foreach (var row in rows)
            {
                batch.Put(row.Key, row.Value);
                if (batch.Count >= RowsPerWrite)
                {
                    engine.Write(batch, appliedIndex: 0);
                    batch = new WriteBatch();
                }
            }
            batch.Put(ShardDescriptor.Key, split.Child.Encode());
            engine.Write(batch, appliedIndex: 0);
            engine.Flush();
        }
        ReplicaManifest.Create(split.ChildId, options.NodeId, membersAt(splitIndex), split.Child).Write(Fs, dir);
        options.SplitCreated?.Invoke(new SplitCreated(options.GroupId, split.ChildId, splitIndex, dir));
    }
}

/// <summary>A split made a new shard's replica on this node at <see cref="Directory"/>; the host starts it.</summary>
internal sealed record SplitCreated(ulong ParentId, ulong ChildId, ulong SplitIndex, string Directory);
