namespace LsmRaft.Actors.Background;

/// <summary>One pipeline at a moment: jobs waiting (including those held by the rate limit), running, done, and bytes written.</summary>
public sealed record PipelineState(int Queued, int Running, long Completed, long Failed, long BytesWritten, double BytesPerSecond);

/// <summary>The node's background pipelines at a moment (GET /v1/admin/background).</summary>
public sealed record BackgroundState(PipelineState Flush, PipelineState Compaction, int CompactionParallelism, long? CompactionBytesPerSecond);
