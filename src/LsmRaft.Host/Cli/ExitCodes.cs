using LsmRaft.Client;

namespace LsmRaft.Host.Cli;

/// <summary>The CLI's exit codes (docs/operations.md, "Exit codes").</summary>
internal static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>The key, shard or node does not exist.</summary>
    public const int NotFound = 1;

    /// <summary>Bad usage or input: unknown flags, malformed keys, invalid configuration, a rejected request (400, 413).</summary>
    public const int BadInput = 2;

    /// <summary>The server failed or could not be reached (429, 5xx, connection refused), or the node runtime is missing.</summary>
    public const int Unavailable = 3;

    /// <summary><c>lsmraft ready</c>: the node is not ready or does not answer (a HEALTHCHECK's "unhealthy").</summary>
    public const int NotReady = 1;

    /// <summary>The cluster refused: its state forbids the operation (409: a version conflict, a live node to mark down) or the admin token is missing or wrong (401, 403).</summary>
    public const int Refused = 4;

    /// <summary>No answer, or the awaited end of a long action (drain, join), within the deadline.</summary>
    public const int Timeout = 5;

    /// <summary><c>lsmraft start</c>: the cluster's split-brain resolver downed this node (it was on the minority side of a partition, or unreachable too long); restart it.</summary>
    public const int Downed = 6;

    public static int For(LsmRaftException exception) => exception switch
    {
        LsmRaftTimeoutException => Timeout,
        { StatusCode: 404 } => NotFound,
        { StatusCode: 400 or 413 } => BadInput,
        { StatusCode: 401 or 403 or 409 } => Refused,
        _ => Unavailable,
    };
}
