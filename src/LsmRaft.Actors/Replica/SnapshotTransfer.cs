using LsmRaft.Raft;
using LsmRaft.Storage.IO;

namespace LsmRaft.Actors.Replica;

/// <summary>
/// Leader side of InstallSnapshot: streams every file of the local checkpoint named by the Snap message,
/// chunk by chunk, each acknowledged with the offset the follower wants next — so a transfer that was
/// interrupted resumes where the follower's staged copy ends. The metadata file goes last.
/// </summary>
internal static class SnapshotSender
{
    public static async Task<bool> SendAsync(IFileSystem fs, ReplicaOptions options, IRaftTransport transport, Message snap, CancellationToken cancellationToken)
    {
        var snapshot = snap.Snapshot ?? throw new InvalidOperationException("A Snap message without a snapshot.");
        string dir = Path.Combine(SnapshotFiles.SnapshotsDirectory(options.Directory), snapshot.Index.ToString());
        if (!fs.DirectoryExists(dir))
            return false;
        var files = fs.ListFiles(dir).Where(n => n != SnapshotFiles.MetaFileName).OrderBy(n => n, StringComparer.Ordinal).ToList();
        files.Add(SnapshotFiles.MetaFileName);
        var buffer = new byte[options.SnapshotChunkBytes];
        for (int f = 0; f < files.Count; f++)
        {
            using var file = fs.OpenRead(Path.Combine(dir, files[f]));
            long length = file.Length;
            long offset = 0;
            do
            {
                int n = file.Read(offset, buffer.AsSpan(0, (int)Math.Min(buffer.Length, length - offset)));
                bool lastOfFile = offset + n >= length;
                var chunk = new SnapshotChunkData(options.GroupId, snap.From, snap.To, snapshot, files[f], offset, buffer[..n],
                    lastOfFile, lastOfFile && f == files.Count - 1, snap.Term);
                var ack = await transport.SendSnapshotChunkAsync(chunk, cancellationToken).ConfigureAwait(false);
                if (!ack.Accepted)
                    return false;
                if (ack.Complete)
                    return true;
                offset = ack.NextOffset;
            }
            while (offset < length);
        }
        return false;
    }
}

/// <summary>
/// Follower side: stages incoming chunks under <c>incoming/&lt;index&gt;/</c>. A chunk at the staged end is
/// appended; any other offset is answered with the staged length so the sender resumes there. Staged
/// files survive a sender's interruption for as long as this receiver lives; a new snapshot index
/// discards the previous staging.
/// </summary>
internal sealed class SnapshotReceiver : IDisposable
{
    private readonly IFileSystem _fs;
    private readonly string _replicaDirectory;
    private readonly Dictionary<string, IWritableFile> _open = new(StringComparer.Ordinal);
    private readonly HashSet<string> _complete = new(StringComparer.Ordinal);
    private ulong _index;

    public SnapshotReceiver(IFileSystem fs, string replicaDirectory)
    {
        _fs = fs;
        _replicaDirectory = replicaDirectory;
    }

    public SnapshotChunkAck Accept(SnapshotChunkData chunk)
    {
        if (chunk.FileName.Length == 0 || chunk.FileName.Contains('/') || chunk.FileName.Contains('\\') || chunk.FileName.StartsWith('.'))
            return new SnapshotChunkAck(false, 0, false, $"invalid file name '{chunk.FileName}'");
        string dir = SnapshotFiles.IncomingDirectory(_replicaDirectory, chunk.Snapshot.Index);
        if (chunk.Snapshot.Index != _index)
        {
            Reset();
            _fs.DeleteDirectory(Path.GetDirectoryName(dir)!);
            _fs.CreateDirectory(dir);
            _index = chunk.Snapshot.Index;
        }
        if (_complete.Contains(chunk.FileName))
            return new SnapshotChunkAck(true, long.MaxValue, false);
        if (!_open.TryGetValue(chunk.FileName, out var file))
        {
            if (chunk.Offset != 0)
                return new SnapshotChunkAck(true, 0, false); // resume this file from its start
            file = _fs.Create(Path.Combine(dir, chunk.FileName));
            _open[chunk.FileName] = file;
        }
        if (chunk.Offset != file.Length)
            return new SnapshotChunkAck(true, file.Length, false);
        file.Append(chunk.Data);
        long length = file.Length; // read before a last chunk closes the file
        if (chunk.LastOfFile)
        {
            file.Sync();
            file.Dispose();
            _open.Remove(chunk.FileName);
            _complete.Add(chunk.FileName);
        }
        bool done = chunk.LastOfSnapshot && _open.Count == 0;
        if (done)
            _fs.SyncDirectory(dir);
        return new SnapshotChunkAck(true, length, done);
    }

    public void Dispose() => Reset();

    private void Reset()
    {
        foreach (var file in _open.Values)
            file.Dispose();
        _open.Clear();
        _complete.Clear();
        _index = 0;
    }
}
