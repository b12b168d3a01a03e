using System.Buffers.Binary;

namespace LsmRaft.Storage.Table;

/// <summary>
/// A parsed, immutable block (data or index), as kept in the block cache. Construction validates the
/// restart array, so cursors may trust it: restart 0 is at offset 0, restart offsets increase strictly and
/// lie inside the entries region <c>[0, RestartsOffset)</c> (an empty block has one restart at 0 and no entries).
/// Entries themselves are validated lazily, as cursors decode them.
/// </summary>
internal sealed class Block
{
    public Block(byte[] data, int size, string fileName, long fileOffset)
    {
        Data = data;
        FileName = fileName;
        FileOffset = fileOffset;
        if (size < sizeof(uint) || size > data.Length)
            throw Corrupt($"block of {size} bytes cannot hold its restart count");
        uint count = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(size - sizeof(uint)));
        uint maxCount = (uint)(size - sizeof(uint)) / sizeof(uint);
        if (count == 0 || count > maxCount)
            throw Corrupt($"restart count {count} is impossible in a block of {size} bytes");
        RestartCount = (int)count;
        RestartsOffset = size - sizeof(uint) * (RestartCount + 1);

        if (RestartPoint(0) != 0)
            throw Corrupt("first restart point is not at offset 0");
        if (RestartsOffset == 0)
        {
            if (RestartCount != 1)
                throw Corrupt("empty block with more than one restart point");
            return;
        }
        for (int i = 1; i < RestartCount; i++)
        {
            int previous = RestartPoint(i - 1), current = RestartPoint(i);
            if (current <= previous || current >= RestartsOffset)
                throw Corrupt($"restart point {i} at {current} is out of order or outside the entries");
        }
    }

    /// <summary>The block's bytes; contents occupy <c>[0, RestartsOffset + 4 * (RestartCount + 1))</c>, the trailer may follow.</summary>
    public byte[] Data { get; }

    /// <summary>End of the entries region and start of the restart array.</summary>
    public int RestartsOffset { get; }

    public int RestartCount { get; }

    public string FileName { get; }

    public long FileOffset { get; }

    public bool IsEmpty => RestartsOffset == 0;

    /// <summary>Offset of restart <paramref name="index"/>; the value may be unvalidated only inside the constructor.</summary>
    public int RestartPoint(int index) =>
        (int)Math.Min(int.MaxValue, BinaryPrimitives.ReadUInt32LittleEndian(Data.AsSpan(RestartsOffset + index * sizeof(uint))));

    public CorruptionException Corrupt(string detail) => new(FileName, FileOffset, detail);
}
