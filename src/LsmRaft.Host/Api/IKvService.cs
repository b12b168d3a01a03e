using LsmRaft.Protocol.Cluster;

namespace LsmRaft.Host.Api;

/// <summary>How fresh a read must be.</summary>
public enum ReadConsistency
{
    /// <summary>Reflects every write acknowledged before the read began (ReadIndex through the shard leader). Default.</summary>
    Linearizable,

    /// <summary>Served by the leader while its lease holds, without a quorum round; linearizable unless clocks drift beyond the documented bound.</summary>
    Lease,

    /// <summary>Served by any replica from its applied state; may miss recent writes.</summary>
    Stale,
}

/// <summary>A stored value with its version: the Raft index of the write that set it (used for compare-and-set and ETags).</summary>
public sealed record KvEntry(byte[] Key, byte[] Value, ulong Version);

/// <summary>One operation of a batch: a put (Value set) or a delete (Value null).</summary>
public sealed record BatchOperation(byte[] Key, byte[]? Value);

/// <summary>A scan request; bounds are on keys (start inclusive, end exclusive), null = open.</summary>
public sealed record ScanRequest(byte[]? Start, byte[]? End, int Limit, ReadConsistency Consistency);

/// <summary>One page of a scan in key order; <see cref="NextStart"/> resumes it (null when done).</summary>
public sealed record ScanPage(IReadOnlyList<KvEntry> Entries, byte[]? NextStart);

/// <summary>
/// The key-value operations the HTTP API serves. The cluster implementation hashes each key to its
/// shard and routes to the shard leader (local replica or another node). Failures are the typed
/// exceptions in <c>KvErrors.cs</c>, which the API maps to problem-details responses.
/// </summary>
public interface IKvService
{
    Task<KvEntry?> GetAsync(byte[] key, ReadConsistency consistency, CancellationToken cancellationToken);

    /// <summary>Writes the value; returns the new version.</summary>
    Task<ulong> PutAsync(byte[] key, byte[] value, CancellationToken cancellationToken);

    /// <summary>Deletes the key; returns true when it existed.</summary>
    Task<bool> DeleteAsync(byte[] key, CancellationToken cancellationToken);

    /// <summary>
    /// Sets (or, with a null <paramref name="value"/>, deletes) the key only if its current version equals
    /// <paramref name="expectedVersion"/> (0 = the key must not exist). Returns the new version (0 after a delete);
    /// throws <see cref="VersionConflictException"/> otherwise.
    /// </summary>
    Task<ulong> CompareAndSetAsync(byte[] key, ulong expectedVersion, byte[]? value, CancellationToken cancellationToken);

    /// <summary>Applies operations; atomic when every key maps to one shard, else <see cref="CrossShardBatchException"/>.</summary>
    Task BatchAsync(IReadOnlyList<BatchOperation> operations, CancellationToken cancellationToken);

    /// <summary>A page of keys in order, merged across shards.</summary>
    Task<ScanPage> ScanAsync(ScanRequest request, CancellationToken cancellationToken);

    ClusterView GetClusterView();
}
