namespace LsmRaft.Host.Api;

/// <summary>Base of errors the key-value service reports to clients; each maps to one HTTP status.</summary>
public abstract class KvException : Exception
{
    protected KvException(string message) : base(message) { }
}

/// <summary>409: the key's version is not the expected one.</summary>
public sealed class VersionConflictException(ulong currentVersion)
    : KvException($"Version conflict: the key's current version is {currentVersion}.")
{
    public ulong CurrentVersion { get; } = currentVersion;
}

/// <summary>400: a batch spans several shards and cannot be applied atomically.</summary>
public sealed class CrossShardBatchException(int shards)
    : KvException($"The batch touches {shards} shards; batches are atomic only within one shard. Split it by shard or send the operations separately.");

/// <summary>503 with Retry-After: the shard has no leader or no quorum right now.</summary>
public sealed class ShardUnavailableException(ulong shardId, string reason)
    : KvException($"Shard {shardId} is unavailable: {reason}. Retry later.")
{
    public ulong ShardId { get; } = shardId;
}

/// <summary>429 with Retry-After: too many requests in flight on this node.</summary>
public sealed class OverloadedException(string reason) : KvException($"The node is overloaded: {reason}. Retry later.");

/// <summary>413: a key, value or body over its limit.</summary>
public sealed class TooLargeException(string message) : KvException(message);

/// <summary>400: malformed input.</summary>
public sealed class BadRequestException(string message) : KvException(message);

/// <summary>
/// A shard answered that it no longer owns the key or range it was asked about (it was split since the sender's
/// shard map was read). Internal to routing: the router refreshes its map and retries; it reaches a client as 503
/// only when the map did not catch up within the request deadline.
/// </summary>
public sealed class StaleShardException(ulong shardId, string reason)
    : KvException($"Shard {shardId} changed while the request was routed: {reason}. Retry.")
{
    public ulong ShardId { get; } = shardId;
}
