using System.Globalization;

namespace LsmRaft.Protocol.Cluster;

/// <summary>
/// A replica's Raft id: the node that holds the replica and the replica's incarnation on that node, packed into the
/// 64-bit number Raft messages, <c>ConfState</c>s and conf changes carry:
/// <c>id = incarnation &lt;&lt; 53 | node</c>. Node ids stay below 2^53 (<see cref="NodeIds"/>: integers below 2^52,
/// names in [2^52, 2^53)), so the top 11 bits are free for the incarnation, 0 .. <see cref="MaxIncarnation"/>.
/// </summary>
/// <remarks>
/// <para>Invariant: a Raft id is never reused within a group. Every replica of group G created on node N after the
/// group's bootstrap gets an incarnation strictly greater than every incarnation of G on N allocated before it (the
/// meta group allocates it, <see cref="ShardInfo.AllocateIncarnation"/>), so a message, an acknowledgement or a vote of
/// a retired replica names an id no live replica answers to, and a replica that lost its disk never speaks under
/// the id of the one that had the log.</para>
/// <para>Incarnation 0 is the bootstrap replica: its id is the node id itself, as before incarnations existed, so data
/// directories, shard maps and logs written earlier stay valid unchanged.</para>
/// <para>Whatever treats a Raft member as a place (routing a message by its <c>To</c>, node liveness, a leader hint
/// turned into a forward target, "which nodes hold G") decodes the node with <see cref="NodeOf"/>.</para>
/// </remarks>
public readonly record struct ReplicaId
{
    /// <summary>Bits of the node id (node ids are below 2^53).</summary>
    public const int NodeBits = 53;

    /// <summary>The largest incarnation: 2^11 - 1. A group moved onto one node more often than this is refused.</summary>
    public const int MaxIncarnation = (1 << (64 - NodeBits)) - 1;

    private const ulong NodeMask = (1UL << NodeBits) - 1;

    /// <param name="node">The node holding the replica: 1 .. 2^53 - 1.</param>
    /// <param name="incarnation">0 (the bootstrap replica) .. <see cref="MaxIncarnation"/>.</param>
    public ReplicaId(ulong node, int incarnation)
    {
        if (node is 0 or > NodeMask)
            throw new ArgumentOutOfRangeException(nameof(node), node, $"A replica's node id must be from 1 to {NodeMask} (node ids: {NodeIds.Accepted}).");
        if (incarnation is < 0 or > MaxIncarnation)
            throw new ArgumentOutOfRangeException(nameof(incarnation), incarnation, $"A replica's incarnation must be from 0 to {MaxIncarnation}.");
        Node = node;
        Incarnation = incarnation;
    }

    /// <summary>The node holding the replica.</summary>
    public ulong Node { get; }

    /// <summary>How many replicas of the group were created on <see cref="Node"/> before this one (0: the bootstrap replica).</summary>
    public int Incarnation { get; }

    /// <summary>The Raft id: <c>Incarnation &lt;&lt; 53 | Node</c>.</summary>
    public ulong Value => ((ulong)Incarnation << NodeBits) | Node;

    /// <summary>The next incarnation on the same node.</summary>
    /// <exception cref="IncarnationsExhaustedException">This is <see cref="MaxIncarnation"/>.</exception>
    public ReplicaId Next() => Incarnation < MaxIncarnation
        ? new ReplicaId(Node, Incarnation + 1)
        : throw new IncarnationsExhaustedException(Node);

    /// <summary>Decodes a Raft id; 0 (Raft's "none") is refused.</summary>
    public static ReplicaId FromValue(ulong raftId) =>
        raftId == 0 ? throw new ArgumentOutOfRangeException(nameof(raftId), raftId, "0 is no replica id (Raft's 'none').") : new ReplicaId(raftId & NodeMask, (int)(raftId >> NodeBits));

    /// <summary>The node of a Raft id; 0 (Raft's "none", e.g. no known leader) stays 0.</summary>
    public static ulong NodeOf(ulong raftId) => raftId & NodeMask;

    /// <summary>The incarnation of a Raft id.</summary>
    public static int IncarnationOf(ulong raftId) => (int)(raftId >> NodeBits);

    /// <summary>The bootstrap replica of <paramref name="node"/> (incarnation 0): its id is the node id.</summary>
    public static ReplicaId Bootstrap(ulong node) => new(node, 0);

    /// <summary>For logs: the node id, followed by <c>#incarnation</c> when it is not 0 (<c>3</c>, <c>3#2</c>).</summary>
    public override string ToString() => Describe(Value);

    /// <summary>A Raft id as <see cref="ToString"/> writes it.</summary>
    public static string Describe(ulong raftId) => IncarnationOf(raftId) == 0
        ? NodeOf(raftId).ToString(CultureInfo.InvariantCulture)
        : string.Create(CultureInfo.InvariantCulture, $"{NodeOf(raftId)}#{IncarnationOf(raftId)}");
}

/// <summary>A group was given <see cref="ReplicaId.MaxIncarnation"/> replicas on one node: no new one can be created there.</summary>
public sealed class IncarnationsExhaustedException(ulong node)
    : InvalidOperationException($"Node {node} has held {ReplicaId.MaxIncarnation + 1} replicas of this group over time, the most one node can " +
        $"(replica ids keep {64 - ReplicaId.NodeBits} bits for the incarnation): place the group's replica on another node.")
{
    public ulong Node { get; } = node;
}
