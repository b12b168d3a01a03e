namespace LsmRaft.Host.Sharding;

/// <summary>The pinned strategy refused to place a replica shard now; the coordinator retries.</summary>
internal sealed class ReplicaAllocationRefusedException(string shardId, string reason)
    : Exception($"Replica shard {shardId} is not allocated: {reason}");
