using System.Buffers.Binary;
using LsmRaft.Actors.Raft;
using LsmRaft.Storage;

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

    public KvStateMachine(LsmEngine engine)
    {
        Engine = engine;
        AppliedIndex = (ulong)Math.Max(0, engine.DurableAppliedIndex);
    }

    public LsmEngine Engine { get; }

    /// <summary>Index of the last entry applied. Invariant: entries are applied in index order, each once.</summary>
    public ulong AppliedIndex { get; private set; }

    public ApplyResult Apply(Entry entry)
    {
        if (entry.Index <= AppliedIndex)
            throw new InvalidOperationException($"Entry {entry.Index} was already applied (applied index {AppliedIndex}).");
        ApplyResult result;
        if (entry.Type != EntryType.Normal || entry.Data.Length == 0)
        {
            // Record progress so replay does not start before this entry again.
            Engine.Write(new WriteBatch(), (long)entry.Index);
            result = new ApplyResult.NotACommand(entry.Type == EntryType.Normal ? "no-op" : "membership change");
        }
        else
        {
            KvCommand command;
            try
            {
                command = KvCommand.Decode(entry.Data);
            }
            catch (FormatException e)
            {
                Engine.Write(new WriteBatch(), (long)entry.Index);
                AppliedIndex = entry.Index;
                return new ApplyResult.NotACommand($"malformed command: {e.Message}");
            }
            result = ApplyCommand(command, entry.Index);
        }
        AppliedIndex = entry.Index;
        return result;
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

    private ApplyResult ApplyCommand(KvCommand command, ulong index)
    {
        var batch = new WriteBatch();
        bool existed = false;
        switch (command.Kind)
        {
            case KvCommandKind.Put:
                existed = Engine.Get(command.Operations[0].Key) is not null;
                batch.Put(command.Operations[0].Key, Encode(command.Operations[0].Value!, index));
                break;
            case KvCommandKind.Delete:
                existed = Engine.Get(command.Operations[0].Key) is not null;
                batch.Delete(command.Operations[0].Key);
                break;
            case KvCommandKind.CompareAndSet:
                {
                    var op = command.Operations[0];
                    var current = Get(op.Key);
                    ulong currentVersion = current?.Version ?? 0;
                    if (currentVersion != command.ExpectedVersion)
                    {
                        Engine.Write(new WriteBatch(), (long)index);
                        return new ApplyResult.Conflict(currentVersion);
                    }
                    existed = current is not null;
                    if (op.Value is null)
                        batch.Delete(op.Key);
                    else
                        batch.Put(op.Key, Encode(op.Value, index));
                    break;
                }
            case KvCommandKind.Batch:
                foreach (var op in command.Operations)
                {
                    if (op.Value is null)
                        batch.Delete(op.Key);
                    else
                        batch.Put(op.Key, Encode(op.Value, index));
                }
                break;
        }
        Engine.Write(batch, (long)index);
        bool deleted = command.Kind == KvCommandKind.Delete || (command.Kind == KvCommandKind.CompareAndSet && command.Operations[0].Value is null);
        return new ApplyResult.Applied(deleted ? 0 : index, existed);
    }

    private static byte[] Encode(byte[] value, ulong version)
    {
        var stored = new byte[VersionSize + value.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(stored, version);
        value.CopyTo(stored, VersionSize);
        return stored;
    }
}
