using System.Buffers.Binary;
using System.Text;
using LsmRaft.Raft;
using LsmRaft.Actors.Replica;

namespace LsmRaft.Simulation;

/// <summary>
/// An in-memory replica of <see cref="KvStateMachine"/>'s semantics, fast enough for the simulator: it decodes
/// the same <see cref="KvCommand"/> bytes; a key's version is the index of the entry that last wrote it;
/// compare-and-set with expected version 0 means "absent"; no-ops and membership changes only advance the index.
/// </summary>
internal sealed class SimStateMachine
{
    private readonly Dictionary<string, (byte[] Value, ulong Version)> data = new(StringComparer.Ordinal);

    public SimStateMachine(ulong applied, ConfState conf)
    {
        Applied = applied;
        Conf = conf;
    }

    /// <summary>Index of the last applied entry. Invariant: entries are applied in index order, each once.</summary>
    public ulong Applied { get; private set; }

    /// <summary>The configuration as of <see cref="Applied"/>, recorded with snapshots.</summary>
    public ConfState Conf { get; set; }

    public ApplyResult Apply(Entry entry)
    {
        if (entry.Index != Applied + 1)
        {
            throw new InvalidOperationException($"State machine at {Applied} was handed entry {entry.Index}.");
        }

        Applied = entry.Index;
        if (entry.Type != EntryType.Normal || entry.Data.Length == 0)
        {
            return new ApplyResult.NotACommand(entry.Type == EntryType.Normal ? "no-op" : "membership change");
        }

        KvCommand command;
        try
        {
            command = KvCommand.Decode(entry.Data);
        }
        catch (FormatException e)
        {
            return new ApplyResult.NotACommand($"malformed command: {e.Message}");
        }

        var op = command.Operations[0];
        var key = KeyOf(op.Key);
        var existed = data.TryGetValue(key, out var current);
        switch (command.Kind)
        {
            case KvCommandKind.Put:
                data[key] = (op.Value!, entry.Index);
                return new ApplyResult.Applied(entry.Index, existed);
            case KvCommandKind.Delete:
                data.Remove(key);
                return new ApplyResult.Applied(0, existed);
            case KvCommandKind.CompareAndSet:
                var currentVersion = existed ? current.Version : 0;
                if (currentVersion != command.ExpectedVersion)
                {
                    return new ApplyResult.Conflict(currentVersion);
                }

                if (op.Value is null)
                {
                    data.Remove(key);
                    return new ApplyResult.Applied(0, existed);
                }

                data[key] = (op.Value, entry.Index);
                return new ApplyResult.Applied(entry.Index, existed);
            default:
                foreach (var batchOp in command.Operations)
                {
                    if (batchOp.Value is null)
                    {
                        data.Remove(KeyOf(batchOp.Key));
                    }
                    else
                    {
                        data[KeyOf(batchOp.Key)] = (batchOp.Value, entry.Index);
                    }
                }

                return new ApplyResult.Applied(entry.Index, false);
        }
    }

    public (byte[] Value, ulong Version)? Get(byte[] key) => data.TryGetValue(KeyOf(key), out var v) ? v : null;

    /// <summary>Canonical encoding (keys in ordinal order): <c>count:u32 { keyLen:u16 key version:u64 valueLen:u32 value }*</c>.</summary>
    public byte[] Encode()
    {
        var keys = new List<string>(data.Keys);
        keys.Sort(StringComparer.Ordinal);
        var size = 4;
        foreach (var k in keys)
        {
            size += 2 + k.Length + 8 + 4 + data[k].Value.Length;
        }

        var buffer = new byte[size];
        var p = 0;
        BinaryPrimitives.WriteUInt32LittleEndian(buffer, (uint)keys.Count);
        p += 4;
        foreach (var k in keys)
        {
            var (value, version) = data[k];
            BinaryPrimitives.WriteUInt16LittleEndian(buffer.AsSpan(p), (ushort)k.Length);
            p += 2;
            p += Encoding.Latin1.GetBytes(k, buffer.AsSpan(p));
            BinaryPrimitives.WriteUInt64LittleEndian(buffer.AsSpan(p), version);
            p += 8;
            BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(p), (uint)value.Length);
            p += 4;
            value.CopyTo(buffer, p);
            p += value.Length;
        }

        return buffer;
    }

    /// <summary>The state machine a snapshot (or a flushed copy) at <paramref name="applied"/> describes.</summary>
    public static SimStateMachine Decode(byte[] encoded, ulong applied, ConfState conf)
    {
        var sm = new SimStateMachine(applied, conf);
        if (encoded.Length == 0)
        {
            return sm;
        }

        var span = encoded.AsSpan();
        var count = BinaryPrimitives.ReadUInt32LittleEndian(span);
        var p = 4;
        for (var i = 0; i < count; i++)
        {
            int keyLength = BinaryPrimitives.ReadUInt16LittleEndian(span[p..]);
            p += 2;
            var key = Encoding.Latin1.GetString(span.Slice(p, keyLength));
            p += keyLength;
            var version = BinaryPrimitives.ReadUInt64LittleEndian(span[p..]);
            p += 8;
            var valueLength = (int)BinaryPrimitives.ReadUInt32LittleEndian(span[p..]);
            p += 4;
            sm.data[key] = (span.Slice(p, valueLength).ToArray(), version);
            p += valueLength;
        }

        return sm;
    }

    private static string KeyOf(byte[] key) => Encoding.Latin1.GetString(key);
}
