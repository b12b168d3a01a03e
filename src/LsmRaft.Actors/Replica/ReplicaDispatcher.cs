namespace LsmRaft.Actors.Replica;

/// <summary>
/// The dispatcher replica and storage actors run on: their own, so request handling and Raft work never queue
/// behind other actors (and the other way round). Its HOCON is <see cref="Hocon"/>; a system that runs replicas
/// includes it (docs/configuration.md).
/// </summary>
internal static class ReplicaDispatcher
{
    public const string Id = "lsmraft.replica-dispatcher";

    /// <summary>
    /// The .NET thread pool executor: replica work shares the pool with the node log's writer continuations and
    /// Kestrel, which on two cores measured faster than a fork-join pool of dedicated threads (docs/benchmarks.md).
    /// <c>throughput</c>: messages one actor handles before its thread moves on to another.
    /// </summary>
    public const string Hocon = """
        lsmraft.replica-dispatcher {
          type = Dispatcher
          executor = default-executor
          throughput = 100
        }
        """;
}
