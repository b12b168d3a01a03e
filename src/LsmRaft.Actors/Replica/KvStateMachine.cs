using System.Buffers.Binary;
using LsmRaft.Raft;
using LsmRaft.Storage;
using LsmRaft.Storage.Format;

namespace LsmRaft.Actors.Replica;

/// <summary>The outcome of applying one committed entry.</summary>
internal abstract record ApplyResult
{
    /// <summary>The command took effect; <see cref="Version"/> is the entry's index (the key's new version; 0 after a delete).</summary>
    public sealed record Applied(ulong Version, bool Existed) : ApplyResult;

    /// <summary>A compare-and-set found another version; nothing changed.</summary>
    public sealed record Conflict(ulong CurrentVersion) : ApplyResult;

    /// <summary>The entry was not a command (the leader's no-op, a membership change) or was malformed.</summary>
    public sealed record NotACommand(string Reason) : ApplyResult;

    /// <summary>A key of the command is not owned by this shard (it was split away); nothing changed. Re-route with a fresh shard map.</summary>
    public sealed record WrongShard(ShardDescriptor Current) : ApplyResult;

    /// <summary>The shard was split: it now owns <see cref="Parent"/>, and shard <see cref="ChildId"/> owns <see cref="Child"/>.</summary>
    public sealed record Split(ulong ChildId, ShardDescriptor Parent, ShardDescriptor Child) : ApplyResult;

    /// <summary>A split that does not fit the shard's current range (a stale or repeated request); nothing changed.</summary>
    public sealed record SplitRefused(string Reason, ShardDescriptor Current) : ApplyResult;
}

/// <summary>
/// Creates the new shard of a split on this node. A split entry may be applied again after a crash (the
/// engine's applied index lags the log), and the host may have created the shard's replica itself (an empty
/// one that learns its state from a snapshot), so creation happens only when the child does not exist yet.
/// </summary>
internal interface ISplitChildFactory
{
    /// <summary>
    /// Creates the child from the parent's rows (stored form: version ++ value), enumerating all of them, and
    /// makes it durable before returning true; returns false without enumerating when the child already exists.
    /// </summary>
    bool TryCreate(ulong splitIndex, SplitRequest split, IEnumerable<KeyValuePair<byte[], byte[]>> rows);
}

/// <summary>
/// The replicated key-value state machine over one replica's <see cref="LsmEngine"/> (WAL off: the
/// Raft log is the WAL). Each stored value is <c>version:u64 LE ++ user value</c>, where the version is
/// the index of the entry that wrote it. Every apply passes the entry index as the engine's applied
/// index, so after a restart <see cref="LsmEngine.DurableAppliedIndex"/> says where log replay starts.
/// Not thread-safe: one applier (the storage actor); reads may run concurrently (the engine is thread-safe).
/// </summary>
internal sealed class KvStateMachine
{
    private const int VersionSize = 8;

    public KvStateMachine(LsmEngine engine, ShardDescriptor initialRange, ISplitChildFactory? splitChildFactory = null)
    {
        Engine = engine;
        AppliedIndex = (ulong)Math.Max(0, engine.DurableAppliedIndex);
        var stored = engine.Get(ShardDescriptor.Key);
        Descriptor = stored is null ? initialRange : ShardDescriptor.Decode(stored);
        _splitChildFactory = splitChildFactory;
    }

    private readonly ISplitChildFactory? _splitChildFactory;

    public LsmEngine Engine { get; }

    /// <summary>The hash range and epoch this replica owns (see <see cref="ShardDescriptor"/>).</summary>
    public ShardDescriptor Descriptor { get; private set; }

    /// <summary>Whether this shard owns <paramref name="key"/>; the empty key is reserved and never owned.</summary>
    public bool Owns(ReadOnlySpan<byte> key) =>
        key.Length > 0 && (Descriptor == ShardDescriptor.WholeRing || Descriptor.Contains(LsmRaft.Protocol.Hashing.KeyHash.Hash(key)));

    /// <summary>Index of the last entry applied. Invariant: entries are applied in index order, each once.</summary>
    public ulong AppliedIndex { get; private set; }

    /// <summary>
    /// Applies committed entries in order as ONE engine write (atomic, carrying the last entry's index as
    /// the applied index), so a Ready's worth of commands costs one trip through the engine's write path.
    /// Reads inside the group (a delete's existence check, a compare-and-set's version) see the effects of
    /// earlier entries of the same group through an overlay of the pending writes.
    /// </summary>
    public ApplyResult[] ApplyAll(IReadOnlyList<Entry> entries)
    {
        var results = new ApplyResult[entries.Count];
        if (entries.Count == 0)
            return results;
        // Room for every entry's command bytes plus per-operation framing and version headers, so the buffer rarely regrows.
        long estimate = 0;
        for (int i = 0; i < entries.Count; i++)
            estimate += entries[i].Data.Length + 32;
        var batch = new WriteBatch((int)Math.Min(estimate, 1 << 20));
        var overlay = new PendingWrites();
        for (int i = 0; i < entries.Count; i++)
        {
            var entry = entries[i];
            if (entry.Index <= AppliedIndex)
                throw new InvalidOperationException($"Entry {entry.Index} was already applied (applied index {AppliedIndex}).");
            if (entry.Type != EntryType.Normal || entry.Data.Length == 0)
            {
                results[i] = new ApplyResult.NotACommand(entry.Type == EntryType.Normal ? "no-op" : "membership change");
            }
            else
            {
                if (KvCommand.TryReadPut(entry.Data, out var keyRange, out var valueRange))
                {
                    // The common write: staged straight from the entry's bytes, no command objects or copies.
                    var key = entry.Data.AsMemory(keyRange);
                    if (!Owns(key.Span))
                        results[i] = key.Length == 0 ? new ApplyResult.NotACommand("the empty key is reserved") : new ApplyResult.WrongShard(Descriptor);
                    else
                    {
                        StagePut(batch, overlay, key, entry.Data.AsSpan(valueRange), entry.Index);
                        results[i] = new ApplyResult.Applied(entry.Index, Existed: true);
                    }
                    AppliedIndex = entry.Index;
                    continue;
                }
                try
                {
                    var command = KvCommand.Decode(entry.Data);
                    if (command.Kind == KvCommandKind.Split)
                    {
                        // Everything before the split becomes engine state first, so the cut sees it.
                        Engine.Write(batch, (long)AppliedIndex);
                        batch = new WriteBatch();
                        overlay = new PendingWrites();
                        results[i] = ApplySplit(command.SplitRequest!, entry.Index, batch);
                    }
                    else
                    {
                        results[i] = ApplyCommand(command, entry.Index, batch, overlay);
                    }
                }
                catch (FormatException e)
                {
                    results[i] = new ApplyResult.NotACommand($"malformed command: {e.Message}");
                }
            }
            AppliedIndex = entry.Index;
        }
        Engine.Write(batch, (long)AppliedIndex);
        return results;
    }

    /// <summary>The value and version of <paramref name="key"/>, or null when absent.</summary>
    public (byte[] Value, ulong Version)? Get(ReadOnlySpan<byte> key, Snapshot? snapshot = null)
    {
        var stored = Engine.Get(key, snapshot);
        return stored is null ? null : Decode(stored);
    }

    public static (byte[] Value, ulong Version) Decode(byte[] stored)
    {
        if (stored.Length < VersionSize)
            throw new InvalidDataException("Stored value is shorter than its version header.");
        return (stored[VersionSize..], BinaryPrimitives.ReadUInt64LittleEndian(stored));
    }

    /// <summary>
    /// Cuts the shard: hands the rows of the child's hash range to the split factory (which makes the child
    /// durable), then stages their deletion and the shrunk descriptor in <paramref name="batch"/>, written with
    /// the split's index. Deterministic: every replica cuts at the same entry and the same point.
    /// </summary>
    private ApplyResult ApplySplit(SplitRequest split, ulong index, WriteBatch batch)
    {
        if (split.Invalid(Descriptor) is { } reason)
            return new ApplyResult.SplitRefused(reason, Descriptor);
        if (_splitChildFactory is null)
            return new ApplyResult.SplitRefused("this replica cannot create shards (no split factory)", Descriptor);
        var child = split.Child;
        var moved = new List<byte[]>();
        IEnumerable<KeyValuePair<byte[], byte[]>> Rows()
        {
            using var iterator = Engine.NewIterator();
            for (iterator.SeekToFirst(); iterator.Valid; iterator.Next())
            {
                var key = iterator.Key;
                if (key.Length == 0 || !child.Contains(LsmRaft.Protocol.Hashing.KeyHash.Hash(key)))
                    continue;
                var keyBytes = key.ToArray();
                moved.Add(keyBytes);
                yield return new KeyValuePair<byte[], byte[]>(keyBytes, iterator.Value.ToArray());
            }
        }
        if (!_splitChildFactory.TryCreate(index, split, Rows()))
            foreach (var _ in Rows()) { } // the child exists already: only collect the keys to delete here
        foreach (var key in moved)
            batch.Delete(key);
        batch.Put(ShardDescriptor.Key, split.Parent.Encode());
        Descriptor = split.Parent;
        return new ApplyResult.Split(split.ChildId, split.Parent, child);
    }

    private ApplyResult ApplyCommand(KvCommand command, ulong index, WriteBatch batch, PendingWrites overlay)
    {
        foreach (var op in command.Operations)
            if (!Owns(op.Key))
                return op.Key.Length == 0 ? new ApplyResult.NotACommand("the empty key is reserved") : new ApplyResult.WrongShard(Descriptor);
        switch (command.Kind)
        {
            case KvCommandKind.Put:
                StagePut(batch, overlay, command.Operations[0].Key, command.Operations[0].Value!, index);
                return new ApplyResult.Applied(index, Existed: true);
            case KvCommandKind.Delete:
                {
                    bool existed = CurrentVersion(overlay, command.Operations[0].Key) is not null;
                    StageDelete(batch, overlay, command.Operations[0].Key);
                    return new ApplyResult.Applied(0, existed);
                }
            case KvCommandKind.CompareAndSet:
                {
                    var op = command.Operations[0];
                    ulong? current = CurrentVersion(overlay, op.Key);
                    ulong currentVersion = current ?? 0;
                    if (currentVersion != command.ExpectedVersion)
                        return new ApplyResult.Conflict(currentVersion);
                    if (op.Value is null)
                        StageDelete(batch, overlay, op.Key);
                    else
                        StagePut(batch, overlay, op.Key, op.Value, index);
                    return new ApplyResult.Applied(op.Value is null ? 0 : index, current is not null);
                }
            case KvCommandKind.Batch:
                foreach (var op in command.Operations)
                {
                    if (op.Value is null)
                        StageDelete(batch, overlay, op.Key);
                    else
                        StagePut(batch, overlay, op.Key, op.Value, index);
                }
                return new ApplyResult.Applied(index, Existed: true);
            default:
                return new ApplyResult.NotACommand($"unknown command kind {command.Kind}");
        }
    }

    /// <summary>The version of <paramref name="key"/> as of the pending group (null when absent or deleted).</summary>
    private ulong? CurrentVersion(PendingWrites overlay, byte[] key)
    {
        if (overlay.TryGet(key, out ulong? pending))
            return pending;
        var stored = Engine.Get(key);
        return stored is null ? null : Decode(stored).Version;
    }

    /// <summary>Stages the stored form (version header, then the value) straight into the batch: no joined copy.</summary>
    private static void StagePut(WriteBatch batch, PendingWrites overlay, ReadOnlyMemory<byte> key, ReadOnlySpan<byte> value, ulong version)
    {
        Span<byte> header = stackalloc byte[VersionSize];
        BinaryPrimitives.WriteUInt64LittleEndian(header, version);
        batch.Put(key.Span, header, value);
        overlay.Add(key, version);
    }

    private static void StageDelete(WriteBatch batch, PendingWrites overlay, byte[] key)
    {
        batch.Delete(key);
        overlay.Add(key, null);
    }

    /// <summary>Unsigned byte-wise equality on keys held as views of entry bytes or whole arrays.</summary>
    private sealed class MemoryKeyComparer : IEqualityComparer<ReadOnlyMemory<byte>>
    {
        public static readonly MemoryKeyComparer Instance = new();

        public bool Equals(ReadOnlyMemory<byte> x, ReadOnlyMemory<byte> y) => x.Span.SequenceEqual(y.Span);

        public int GetHashCode(ReadOnlyMemory<byte> key)
        {
            var hash = new HashCode();
            hash.AddBytes(key.Span);
            return hash.ToHashCode();
        }
    }

    /// <summary>
    /// The writes staged in the current group, newest last: key and version, null for a delete. The lookup index
    /// is built only when a command first reads a key (a delete or compare-and-set), so a group of plain puts pays
    /// no hashing.
    /// </summary>
    private sealed class PendingWrites
    {
        private readonly List<(ReadOnlyMemory<byte> Key, ulong? Version)> _writes = new();
        private Dictionary<ReadOnlyMemory<byte>, ulong?>? _index;

        public void Add(ReadOnlyMemory<byte> key, ulong? version)
        {
            _writes.Add((key, version));
            if (_index is not null)
                _index[key] = version;
        }

        public bool TryGet(byte[] key, out ulong? version)
        {
            if (_writes.Count == 0)
            {
                version = null;
                return false;
            }
            if (_index is null)
            {
                _index = new Dictionary<ReadOnlyMemory<byte>, ulong?>(_writes.Count, MemoryKeyComparer.Instance);
                foreach (var (k, v) in _writes)
                    _index[k] = v;
            }
            return _index.TryGetValue(key, out version);
        }
    }
}
