using System.Text;
using LsmRaft.Storage.Versions;
using LsmRaft.Storage.Wal;

namespace LsmRaft.Storage;

// Checkpoints: a consistent, independently openable copy of the engine in another directory —
// hard links to the (immutable) tables plus a fresh manifest and CURRENT. Raft snapshots ship
// a replica's state this way.
public sealed partial class LsmEngine
{
    /// <summary>
    /// Flushes the memtable, then writes a consistent copy of the engine into the new directory
    /// <paramref name="directory"/> (hard links where the file system allows, copies otherwise).
    /// Returns the checkpoint's applied index (see <see cref="DurableAppliedIndex"/>).
    /// The directory must not exist yet; a partial checkpoint is removed on failure.
    /// </summary>
    public long CreateCheckpoint(string directory)
    {
        ThrowIfDisposed();
        ArgumentException.ThrowIfNullOrEmpty(directory);
        if (_fs.DirectoryExists(directory) && _fs.ListFiles(directory).Count > 0)
            throw new LsmException($"Checkpoint directory '{directory}' already exists and is not empty; choose a new directory.");
        FlushInternal(wait: true);
        var created = new List<string>();
        try
        {
            lock (_versionLock)
            {
                // Under the version lock no table can be deleted, so every linked file exists.
                _fs.CreateDirectory(directory);
                var snapshot = _versions.SnapshotEdit();
                foreach (var (_, file) in snapshot.NewFiles)
                {
                    string name = FileMetadata.TableFileName(file.Number);
                    string target = Path.Combine(directory, name);
                    _fs.LinkOrCopy(Path.Combine(_directory, name), target);
                    created.Add(target);
                }
                ulong manifestNumber = _versions.NextFileNumber;
                snapshot.NextFileNumber = manifestNumber + 1;
                string manifestName = VersionSet.ManifestFileName(manifestNumber);
                string manifestPath = Path.Combine(directory, manifestName);
                created.Add(manifestPath);
                using (var file = _fs.Create(manifestPath))
                using (var writer = new LogWriter(file))
                {
                    writer.AddRecord(snapshot.Encode());
                    writer.Sync();
                }
                string current = Path.Combine(directory, "CURRENT");
                created.Add(current);
                using (var file = _fs.Create(current))
                {
                    file.Append(Encoding.ASCII.GetBytes(manifestName + "\n"));
                    file.Sync();
                }
                _fs.SyncDirectory(directory);
                return snapshot.AppliedIndex ?? -1;
            }
        }
        catch
        {
            foreach (var path in created)
                if (_fs.FileExists(path))
                    _fs.Delete(path);
            throw;
        }
    }
}
