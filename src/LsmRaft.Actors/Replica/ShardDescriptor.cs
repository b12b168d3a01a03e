using System.Buffers.Binary;

namespace LsmRaft.Actors.Replica;

/// <summary>
/// What a shard replica owns: the keys whose <c>KeyHash</c> lies in [<see cref="Start"/>, <see cref="End"/>]
/// (inclusive), at range version <see cref="Epoch"/> (grows by one on every split of the shard).
/// Part of the replicated state: it is stored in the replica's engine under the reserved empty key
/// (<see cref="Key"/>; the API never accepts an empty key), written in the same engine write as the entry
/// that changed it, and so travels in snapshots and survives restarts exactly like the data it describes.
/// A replica without a descriptor (the meta group, or a shard that was never split) owns every key at epoch 1.
/// Format (docs/formats/commands.md): <c>version:u8=1 start:u64 end:u64 epoch:u64</c>, little-endian.
/// </summary>
internal readonly record struct ShardDescriptor(ulong Start, ulong End, ulong Epoch)
{
    private const byte FormatVersion = 1;
    private const int EncodedLength = 1 + 3 * 8;

    /// <summary>The engine key the descriptor lives under: the empty key, which no client command may use.</summary>
    public static readonly byte[] Key = [];

    /// <summary>The descriptor of a replica that was never split: the whole ring, epoch 1.</summary>
    public static readonly ShardDescriptor WholeRing = new(0, ulong.MaxValue, 1);

    public bool Contains(ulong hash) => hash >= Start && hash <= End;

    public byte[] Encode()
    {
        var buffer = new byte[EncodedLength];
        buffer[0] = FormatVersion;
        BinaryPrimitives.WriteUInt64LittleEndian(buffer.AsSpan(1), Start);
        BinaryPrimitives.WriteUInt64LittleEndian(buffer.AsSpan(9), End);
        BinaryPrimitives.WriteUInt64LittleEndian(buffer.AsSpan(17), Epoch);
        return buffer;
    }

    /// <exception cref="InvalidDataException">The stored bytes are not a descriptor.</exception>
    public static ShardDescriptor Decode(ReadOnlySpan<byte> data)
    {
        if (data.Length != EncodedLength || data[0] != FormatVersion)
            throw new InvalidDataException($"The shard descriptor (engine key \"\") has {data.Length} bytes and format version {(data.Length > 0 ? data[0] : 0)}; expected {EncodedLength} bytes, version {FormatVersion}.");
        var descriptor = new ShardDescriptor(
            BinaryPrimitives.ReadUInt64LittleEndian(data[1..]),
            BinaryPrimitives.ReadUInt64LittleEndian(data[9..]),
            BinaryPrimitives.ReadUInt64LittleEndian(data[17..]));
        if (descriptor.Start > descriptor.End)
            throw new InvalidDataException($"The shard descriptor's range is inverted: {descriptor}.");
        return descriptor;
    }

    public override string ToString() => $"[0x{Start:X16}, 0x{End:X16}] epoch {Epoch}";
}

/// <summary>
/// A split as carried in a Raft entry: the shard keeps [<see cref="ExpectedStart"/>, <see cref="SplitAt"/> - 1],
/// a new shard <see cref="ChildId"/> takes [<see cref="SplitAt"/>, <see cref="ExpectedEnd"/>], both at epoch
/// <see cref="ExpectedEpoch"/> + 1. The expectations make a split proposed from a stale shard map a no-op
/// (answered with the current descriptor) instead of a wrong cut.
/// </summary>
internal sealed record SplitRequest(ulong ChildId, ulong SplitAt, ulong ExpectedStart, ulong ExpectedEnd, ulong ExpectedEpoch)
{
    public ShardDescriptor Parent => new(ExpectedStart, SplitAt - 1, ExpectedEpoch + 1);

    public ShardDescriptor Child => new(SplitAt, ExpectedEnd, ExpectedEpoch + 1);

    /// <summary>Why this split cannot be applied to a replica currently owning <paramref name="current"/>, or null.</summary>
    public string? Invalid(ShardDescriptor current)
    {
        if (current.Start != ExpectedStart || current.End != ExpectedEnd || current.Epoch != ExpectedEpoch)
            return $"the shard now owns {current}, not [0x{ExpectedStart:X16}, 0x{ExpectedEnd:X16}] epoch {ExpectedEpoch} (split from a stale shard map)";
        if (SplitAt <= ExpectedStart || SplitAt > ExpectedEnd)
            return $"split point 0x{SplitAt:X16} is not inside ({current.Start:X16}, {current.End:X16}]";
        return null;
    }
}
