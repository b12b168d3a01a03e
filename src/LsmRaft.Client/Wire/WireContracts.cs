using System.Text.Json.Serialization;
using LsmRaft.Protocol.Cluster;

namespace LsmRaft.Client.Wire;

// The JSON bodies of the HTTP API (docs/api.md). The server (LsmRaft.Host) serializes these same types, so the
// client and the server cannot drift apart. Keys and values are strings in the encoding the body names:
// "utf8" (text) or "base64url" (RFC 4648 §5, no padding required) for arbitrary bytes.

/// <summary>A key with its value and version: the JSON answer of <c>GET /v1/kv/{key}</c> and one item of a scan page.</summary>
public sealed record KvItem(string Key, string Value, string Encoding, ulong Version);

/// <summary>The JSON form of a <c>PUT /v1/kv/{key}</c> body; <see cref="Encoding"/> defaults to utf8.</summary>
public sealed record PutValueRequest(string Value, string? Encoding = null);

/// <summary>The answer of a write: the version the key now has (0 after a delete by compare-and-set).</summary>
public sealed record WriteResult(ulong Version);

/// <summary>One page of <c>GET /v1/kv</c>; <see cref="Continuation"/> is null on the last page.</summary>
public sealed record ScanResult(IReadOnlyList<KvItem> Items, string? Continuation);

/// <summary>One operation of <c>POST /v1/batch</c>: <c>op</c> is "put" (with a value) or "delete".</summary>
public sealed record BatchOperationItem(string Op, string Key, string? Value = null, string? Encoding = null);

/// <summary>The body of <c>POST /v1/batch</c>; <see cref="Encoding"/> is the default for operations that name none.</summary>
public sealed record BatchRequest(IReadOnlyList<BatchOperationItem> Operations, string? Encoding = null);

/// <summary>The answer of a batch: how many operations were applied (all of them, atomically within one shard).</summary>
public sealed record BatchResult(int Applied);

/// <summary>
/// The body of <c>POST /v1/kv/{key}/cas</c>: set <see cref="Value"/> (or delete the key when it is null) only if the
/// key's version is <see cref="ExpectedVersion"/> (0 = the key must not exist).
/// </summary>
public sealed record CompareAndSetRequest(ulong ExpectedVersion, string? Value = null, string? Encoding = null);

/// <summary>The body of <c>POST /v1/admin/shards/{id}/move</c>; node ids as numbers or as names (<c>"to": "n2"</c>).</summary>
public sealed record MoveReplicaRequest(
    [property: JsonConverter(typeof(NodeIdJsonConverter))] ulong From,
    [property: JsonConverter(typeof(NodeIdJsonConverter))] ulong To);

/// <summary>The body of <c>POST /v1/admin/shards/{id}/transfer-leader</c>; the node id as a number or a name.</summary>
public sealed record TransferLeaderRequest([property: JsonConverter(typeof(NodeIdJsonConverter))] ulong To);

/// <summary>The body of <c>POST /v1/admin/nodes/join</c>: the peer address (host:port) of the node to admit.</summary>
public sealed record JoinNodeRequest(string Address);

/// <summary>The answer of <c>GET /readyz</c> when the node is ready.</summary>
public sealed record ReadinessResult(bool Ready, string? Reason);

/// <summary>The names the API uses on the wire.</summary>
public static class WireNames
{
    public const string Utf8 = "utf8";
    public const string Base64Url = "base64url";

    /// <summary>Media type of RFC 9457 problem details.</summary>
    public const string ProblemJson = "application/problem+json";

    public const string OctetStream = "application/octet-stream";

    /// <summary>
    /// Response header naming the HTTP endpoint (absolute URI) of the node that leads the key's shard, when the
    /// answering node knows it; clients may send later requests for that shard there.
    /// </summary>
    public const string LeaderHintHeader = "LsmRaft-Leader";

    /// <summary>Problem-details extension member carrying the key's current version on a 409.</summary>
    public const string CurrentVersionExtension = "currentVersion";

    /// <summary>Problem-details extension member carrying the id under which the server logged a 500.</summary>
    public const string CorrelationIdExtension = "correlationId";
}
