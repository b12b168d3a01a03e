using LsmRaft.Client;

namespace LsmRaft.Host.Cli;

/// <summary>The CLI's exit codes.</summary>
internal static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>The key, shard or node does not exist.</summary>
    public const int NotFound = 1;

    /// <summary>Bad usage or input: unknown flags, malformed keys, invalid configuration, a rejected request (400, 401, 409, 413).</summary>
    public const int BadInput = 2;

    /// <summary>The server failed or could not be reached, or the node runtime is missing.</summary>
    public const int Unavailable = 3;

    /// <summary><c>lsmraft ready</c>: the node is not ready or does not answer (a HEALTHCHECK's "unhealthy").</summary>
    public const int NotReady = 1;

    public static int For(LsmRaftException exception) => exception.StatusCode switch
    {
        404 => NotFound,
        400 or 401 or 403 or 409 or 413 => BadInput,
        _ => Unavailable,
    };
}
