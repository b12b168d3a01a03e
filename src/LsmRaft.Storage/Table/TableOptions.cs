namespace LsmRaft.Storage.Table;

/// <summary>
/// How a table is laid out. <paramref name="BlockSize"/>: target uncompressed data-block size in bytes
/// (a block is cut once it reaches it, so one entry may overshoot it). <paramref name="RestartInterval"/>:
/// keys between restart points of a data block. <paramref name="BloomFalsePositiveRate"/>: target false-positive
/// rate of the table's Bloom filter, in (0, 1). <paramref name="BloomHashFunctions"/>: overrides the number of
/// probes k (1..30) derived from the rate.
/// </summary>
internal sealed record TableOptions(int BlockSize, int RestartInterval, double BloomFalsePositiveRate, int? BloomHashFunctions)
{
    /// <summary>Throws <see cref="InvalidOptionException"/> naming the first setting out of range.</summary>
    public void Validate()
    {
        if (BlockSize < 64)
            throw new InvalidOptionException(nameof(BlockSize), $"must be at least 64 bytes, was {BlockSize}");
        if (RestartInterval < 1)
            throw new InvalidOptionException(nameof(RestartInterval), $"must be at least 1, was {RestartInterval}");
        if (!(BloomFalsePositiveRate > 0 && BloomFalsePositiveRate < 1))
            throw new InvalidOptionException(nameof(BloomFalsePositiveRate), $"must be strictly between 0 and 1, was {BloomFalsePositiveRate}");
        if (BloomHashFunctions is < BloomFilter.MinHashFunctions or > BloomFilter.MaxHashFunctions)
            throw new InvalidOptionException(nameof(BloomHashFunctions), $"must be between {BloomFilter.MinHashFunctions} and {BloomFilter.MaxHashFunctions}, was {BloomHashFunctions}");
    }
}
