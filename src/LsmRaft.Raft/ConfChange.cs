using System.Buffers.Binary;

namespace LsmRaft.Raft;

/// <summary>The single-server membership changes the core supports.</summary>
public enum ConfChangeType : byte
{
    /// <summary>Promote a learner to voter (a new server joins as a learner first).</summary>
    AddVoter = 1,

    /// <summary>Add a learner, or demote a voter to learner.</summary>
    AddLearner = 2,

    /// <summary>Remove a voter or learner.</summary>
    RemoveNode = 3,
}

/// <summary>
/// One single-server membership change, carried in the <see cref="Entry.Data"/> of a
/// <see cref="EntryType.ConfChange"/> entry.
/// </summary>
/// <remarks>
/// Wire format (10 bytes, little-endian): <c>version:u8 (=1) | type:u8 | nodeId:u64</c>.
/// The version byte lets a later format add fields; decoding rejects unknown versions and lengths.
/// </remarks>
public readonly record struct ConfChange(ConfChangeType Type, ulong NodeId)
{
    private const byte FormatVersion = 1;
    private const int EncodedLength = 10;

    public static ConfChange AddVoter(ulong id) => new(ConfChangeType.AddVoter, id);

    public static ConfChange AddLearner(ulong id) => new(ConfChangeType.AddLearner, id);

    public static ConfChange Remove(ulong id) => new(ConfChangeType.RemoveNode, id);

    public byte[] Encode()
    {
        var buffer = new byte[EncodedLength];
        buffer[0] = FormatVersion;
        buffer[1] = (byte)Type;
        BinaryPrimitives.WriteUInt64LittleEndian(buffer.AsSpan(2), NodeId);
        return buffer;
    }

    public static ConfChange Decode(ReadOnlySpan<byte> data)
    {
        if (data.Length != EncodedLength)
        {
            throw new InvalidDataException($"Conf change entry has {data.Length} bytes; version {FormatVersion} uses {EncodedLength}.");
        }

        if (data[0] != FormatVersion)
        {
            throw new InvalidDataException($"Conf change entry has unknown format version {data[0]}.");
        }

        var type = (ConfChangeType)data[1];
        if (type is not (ConfChangeType.AddVoter or ConfChangeType.AddLearner or ConfChangeType.RemoveNode))
        {
            throw new InvalidDataException($"Conf change entry has unknown change type {data[1]}.");
        }

        var id = BinaryPrimitives.ReadUInt64LittleEndian(data[2..]);
        if (id == 0)
        {
            throw new InvalidDataException("Conf change entry names node 0, which is reserved for 'none'.");
        }

        return new ConfChange(type, id);
    }

    public override string ToString() => Type switch
    {
        ConfChangeType.AddVoter => $"v{NodeId}",
        ConfChangeType.AddLearner => $"l{NodeId}",
        _ => $"r{NodeId}",
    };
}
