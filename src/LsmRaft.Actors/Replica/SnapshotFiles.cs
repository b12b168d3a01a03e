using LsmRaft.Shared;
using System.Buffers.Binary;
using LsmRaft.Raft;
using LsmRaft.Storage;
using LsmRaft.Storage.Format;
using LsmRaft.Storage.IO;

namespace LsmRaft.Actors.Replica;

/// <summary>
/// Where a replica keeps its engine and snapshots, and the snapshot metadata file format.
/// Layout: <c>engine/</c> (the LSM engine, WAL off), <c>snapshots/&lt;index&gt;/</c> (the latest local
/// checkpoint plus <c>SNAPSHOT</c>), <c>incoming/&lt;index&gt;/</c> (a snapshot being received).
/// <c>SNAPSHOT</c> = <c>magic "LRSNAP01" | index u64 | term u64 | voters: count u32, ids u64* | learners: same | masked crc32c u32</c>.
/// </summary>
internal static class SnapshotFiles
{
    public const string MetaFileName = "SNAPSHOT";
    private static ReadOnlySpan<byte> Magic => "LRSNAP01"u8;

    public static string EngineDirectory(string replicaDir) => Path.Combine(replicaDir, "engine");

    public static string SnapshotsDirectory(string replicaDir) => Path.Combine(replicaDir, "snapshots");

    public static string IncomingDirectory(string replicaDir, ulong index) => Path.Combine(replicaDir, "incoming", index.ToString());

    public static byte[] EncodeMeta(SnapshotMetadata meta)
    {
        var voters = meta.ConfState.Voters;
        var learners = meta.ConfState.Learners;
        var buffer = new byte[8 + 16 + 4 + voters.Count * 8 + 4 + learners.Count * 8 + 4];
        var span = buffer.AsSpan();
        Magic.CopyTo(span);
        int p = 8;
        BinaryPrimitives.WriteUInt64LittleEndian(span[p..], meta.Index); p += 8;
        BinaryPrimitives.WriteUInt64LittleEndian(span[p..], meta.Term); p += 8;
        foreach (var set in new[] { voters, learners })
        {
            BinaryPrimitives.WriteUInt32LittleEndian(span[p..], (uint)set.Count); p += 4;
            foreach (var id in set)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(span[p..], id); p += 8;
            }
        }
        BinaryPrimitives.WriteUInt32LittleEndian(span[p..], Checksum.Mask(Checksum.Compute(span[..p])));
        return buffer;
    }

    public static SnapshotMetadata DecodeMeta(ReadOnlySpan<byte> data, string fileName)
    {
        if (data.Length < 8 + 16 + 8 + 4 || !data[..8].SequenceEqual(Magic))
            throw new CorruptionException(fileName, 0, "not a snapshot metadata file");
        int end = data.Length - 4;
        if (Checksum.Unmask(BinaryPrimitives.ReadUInt32LittleEndian(data[end..])) != Checksum.Compute(data[..end]))
            throw new CorruptionException(fileName, end, "checksum mismatch");
        int p = 8;
        ulong index = BinaryPrimitives.ReadUInt64LittleEndian(data[p..]); p += 8;
        ulong term = BinaryPrimitives.ReadUInt64LittleEndian(data[p..]); p += 8;
        var sets = new List<ulong>[2];
        for (int s = 0; s < 2; s++)
        {
            if (end - p < 4)
                throw new CorruptionException(fileName, p, "truncated member list");
            uint count = BinaryPrimitives.ReadUInt32LittleEndian(data[p..]); p += 4;
            if (count > (end - p) / 8)
                throw new CorruptionException(fileName, p, "member count exceeds the file");
            sets[s] = new List<ulong>((int)count);
            for (int i = 0; i < count; i++)
            {
                sets[s].Add(BinaryPrimitives.ReadUInt64LittleEndian(data[p..])); p += 8;
            }
        }
        if (p != end)
            throw new CorruptionException(fileName, p, "trailing bytes");
        return new SnapshotMetadata(index, term, new ConfState(sets[0], sets[1]));
    }

    public static void WriteMeta(IFileSystem fs, string directory, SnapshotMetadata meta)
    {
        fs.WriteAtomically(Path.Combine(directory, MetaFileName), EncodeMeta(meta));
    }

    public static SnapshotMetadata? ReadMeta(IFileSystem fs, string directory)
    {
        string path = Path.Combine(directory, MetaFileName);
        if (!fs.FileExists(path))
            return null;
        return DecodeMeta(fs.ReadAllBytes(path), path);
    }

    /// <summary>The newest complete local snapshot directory (one with a SNAPSHOT file), or null.</summary>
    public static (string Directory, SnapshotMetadata Meta)? Latest(IFileSystem fs, string replicaDir)
    {
        string root = SnapshotsDirectory(replicaDir);
        (string, SnapshotMetadata)? best = null;
        foreach (var name in fs.ListDirectories(root))
        {
            if (!ulong.TryParse(name, out _))
                continue;
            string dir = Path.Combine(root, name);
            var meta = ReadMeta(fs, dir);
            if (meta is not null && (best is null || meta.Index > best.Value.Item2.Index))
                best = (dir, meta);
        }
        return best;
    }

    /// <summary>Encodes which snapshot a RaftSnapshot's opaque data refers to (its index), so a leader can find its files.</summary>
    public static byte[] EncodeData(ulong index)
    {
        var data = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(data, index);
        return data;
    }
}
