namespace LsmRaft.Storage;

/// <summary>
/// Where an engine sends its flush and compaction work (<see cref="LsmOptions.BackgroundScheduler"/>). Without
/// one, each engine runs its own: a flush thread and a compaction loop limited by <see cref="LsmOptions.CompactionLimiter"/>.
/// A node hosting many engines passes one shared scheduler (LsmRaft's Akka.Streams pipelines) so that background
/// work is bounded node-wide. Implementations must run flushes even while compactions are queued or running:
/// writers stall on unflushed memtables, not on compaction debt.
/// </summary>
public interface IBackgroundScheduler
{
    /// <summary>Queues a flush. Called under the engine's locks: must not block and must not run the job inline.</summary>
    void Schedule(FlushJob job);

    /// <summary>Queues a compaction. Called under the engine's locks: must not block and must not run the job inline.</summary>
    void Schedule(CompactionJob job);
}
