using System.Security.Cryptography;

namespace LsmRaft.Protocol.Peer;

/// <summary>
/// The cryptography of the peer handshake (docs/peer-protocol.md): each side proves it knows the cluster secret
/// by returning HMAC-SHA256(secret, nonce) over a fresh nonce chosen by the other side, so the secret never
/// crosses the wire and a recorded proof is useless on another connection.
/// </summary>
public static class PeerAuthentication
{
    /// <summary>
    /// The peer protocol version sent in Challenge and Hello; a mismatch is refused with UnsupportedVersion.
    /// 2: heartbeats travel in RaftBatch.heartbeats / heartbeat_responses, which a version-1 node would ignore.
    /// </summary>
    public const uint ProtocolVersion = 2;

    /// <summary>Bytes of a Challenge or Hello nonce.</summary>
    public const int NonceLength = 32;

    /// <summary>Bytes of a proof (an HMAC-SHA256 tag).</summary>
    public const int ProofLength = HMACSHA256.HashSizeInBytes;

    /// <summary>The secret must be at least this long: a short secret can be brute-forced from one observed proof.</summary>
    public const int MinSecretLength = 16;

    /// <summary>What <see cref="GroupIdKey"/> hashes before the group id; changing it splits clusters of mixed versions.</summary>
    public const string GroupIdKeyPrefix = "lsmraft-peer-key-from-group-id-v1:";

    /// <summary>
    /// The key a node proves when no cluster secret is configured (the origin sets none): SHA-256 of
    /// <see cref="GroupIdKeyPrefix"/> + the group id. It keeps nodes of other groups (and anything that does not know the
    /// group id) out, but the group id is not a secret — it appears in configuration and compose files — so the peer port
    /// is then only as private as the group id. A configured secret replaces it.
    /// </summary>
    public static byte[] GroupIdKey(string groupId) => SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(GroupIdKeyPrefix + groupId));

    /// <summary>A fresh nonce from the OS cryptographic generator (never a seeded one: predictability defeats it).</summary>
    public static byte[] CreateNonce() => RandomNumberGenerator.GetBytes(NonceLength);

    /// <summary>HMAC-SHA256(key = <paramref name="secret"/>, message = <paramref name="nonce"/>).</summary>
    public static byte[] ComputeProof(ReadOnlySpan<byte> secret, ReadOnlySpan<byte> nonce)
    {
        ValidateSecret(secret);
        ValidateNonce(nonce);
        return HMACSHA256.HashData(secret, nonce);
    }

    /// <summary>
    /// Whether <paramref name="proof"/> is the proof for <paramref name="nonce"/> under <paramref name="secret"/>.
    /// Constant-time in the proof's content, so timing does not reveal how many leading bytes matched.
    /// </summary>
    public static bool VerifyProof(ReadOnlySpan<byte> secret, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> proof)
    {
        ValidateSecret(secret);
        ValidateNonce(nonce);
        if (proof.Length != ProofLength)
            return false;
        Span<byte> expected = stackalloc byte[ProofLength];
        HMACSHA256.HashData(secret, nonce, expected);
        return CryptographicOperations.FixedTimeEquals(expected, proof);
    }

    private static void ValidateSecret(ReadOnlySpan<byte> secret)
    {
        if (secret.Length < MinSecretLength)
            throw new ArgumentException($"The cluster secret is {secret.Length} bytes; it must be at least {MinSecretLength} bytes. Set a longer cluster secret on every node.", nameof(secret));
    }

    private static void ValidateNonce(ReadOnlySpan<byte> nonce)
    {
        // A short or empty nonce would let a recorded proof be replayed; the peer that sent it is misbehaving.
        if (nonce.Length != NonceLength)
            throw new ArgumentException($"Handshake nonce is {nonce.Length} bytes; the protocol requires exactly {NonceLength}.", nameof(nonce));
    }
}
