namespace LsmRaft.Client;

/// <summary>
/// Base of the errors the client reports. <see cref="StatusCode"/> and <see cref="ProblemType"/> come from the server's
/// RFC 9457 problem details when there was an answer; <see cref="Exception.Message"/> is the problem's detail text.
/// </summary>
public class LsmRaftException : Exception
{
    public LsmRaftException(string message, int? statusCode = null, string? problemType = null, Exception? inner = null)
        : base(message, inner)
    {
        StatusCode = statusCode;
        ProblemType = problemType;
    }

    /// <summary>The HTTP status of the answer, null when there was none (connection failure, deadline).</summary>
    public int? StatusCode { get; }

    /// <summary>The problem type URI of the answer (see docs/api.md), when there was one.</summary>
    public string? ProblemType { get; }
}

/// <summary>400: the request was malformed (bad key encoding, bad JSON, bad limit, a batch spanning shards).</summary>
public sealed class LsmRaftBadRequestException(string message, string? problemType = null)
    : LsmRaftException(message, 400, problemType);

/// <summary>404 on an operation where a missing key or shard is an error (not on Get, which returns null).</summary>
public sealed class LsmRaftNotFoundException(string message, string? problemType = null)
    : LsmRaftException(message, 404, problemType);

/// <summary>409: compare-and-set found another version.</summary>
public sealed class LsmRaftVersionConflictException(string message, ulong? currentVersion, string? problemType = null)
    : LsmRaftException(message, 409, problemType)
{
    /// <summary>The key's version at the time of the conflict (0 = the key did not exist), when the server said.</summary>
    public ulong? CurrentVersion { get; } = currentVersion;
}

/// <summary>409 for an admin operation the cluster's state forbids (e.g. moving a replica to a node that holds one).</summary>
public sealed class LsmRaftOperationConflictException(string message, string? problemType = null)
    : LsmRaftException(message, 409, problemType);

/// <summary>413: a key, value or body over the server's limit.</summary>
public sealed class LsmRaftTooLargeException(string message, string? problemType = null)
    : LsmRaftException(message, 413, problemType);

/// <summary>
/// 429 or 503 after the retries the deadline allowed, or no endpoint reachable: the cluster could not serve the
/// request now. <see cref="RetryAfter"/> is the server's last hint.
/// </summary>
public sealed class LsmRaftUnavailableException(string message, int? statusCode, TimeSpan? retryAfter, string? problemType = null, Exception? inner = null)
    : LsmRaftException(message, statusCode, problemType, inner)
{
    public TimeSpan? RetryAfter { get; } = retryAfter;
}

/// <summary>The request's deadline (<see cref="LsmRaftClientOptions.Timeout"/>) passed before an answer.</summary>
public sealed class LsmRaftTimeoutException(string message, Exception? inner = null)
    : LsmRaftException(message, null, null, inner);

/// <summary>
/// Any other error answer (500 and unexpected statuses). For a 500, <see cref="CorrelationId"/> finds the server's log entry.
/// </summary>
public sealed class LsmRaftServerException(string message, int statusCode, string? correlationId, string? problemType = null)
    : LsmRaftException(message, statusCode, problemType)
{
    public string? CorrelationId { get; } = correlationId;
}
