namespace LsmRaft.Client;

/// <summary>How fresh a read must be (see docs/api.md).</summary>
public enum Consistency
{
    /// <summary>Sees every write acknowledged before the read began. The default.</summary>
    Linearizable,

    /// <summary>Served by the shard leader under its lease, without a quorum round.</summary>
    Lease,

    /// <summary>Served by any replica; may miss recent writes.</summary>
    Stale,
}

/// <summary>A key, its value and its version (the version is what compare-and-set and ETags compare).</summary>
public sealed record KvValue(byte[] Key, byte[] Value, ulong Version);

/// <summary>One operation of a batch: a put (<see cref="Value"/> set) or a delete (<see cref="Value"/> null).</summary>
public sealed record KvOperation(byte[] Key, byte[]? Value)
{
    public static KvOperation Put(byte[] key, byte[] value) => new(key, value);

    public static KvOperation Delete(byte[] key) => new(key, null);
}

/// <summary>
/// A key range to scan: <see cref="Start"/> inclusive, <see cref="End"/> exclusive, both optional; <see cref="Prefix"/>
/// narrows the range to keys that begin with it. <see cref="Limit"/> bounds the items of the whole scan.
/// </summary>
public sealed record ScanOptions
{
    public byte[]? Start { get; init; }
    public byte[]? End { get; init; }
    public byte[]? Prefix { get; init; }
    public int? Limit { get; init; }
    public Consistency Consistency { get; init; } = Consistency.Linearizable;
}

/// <summary>One page of a scan; pass <see cref="Continuation"/> back to get the next (null = no more).</summary>
public sealed record KvPage(IReadOnlyList<KvValue> Items, string? Continuation);
