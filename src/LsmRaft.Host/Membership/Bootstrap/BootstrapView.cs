using LsmRaft.Protocol.Bootstrap;

namespace LsmRaft.Host.Membership.Bootstrap;

/// <summary>
/// What a node knows at the end of a probe round, the input of <see cref="BootstrapRule.Decide"/>.
/// </summary>
/// <param name="Self">This node's id.</param>
/// <param name="Peers">The ids in PEERS (this node's among them when it may form the cluster); a majority of them forms it.</param>
/// <param name="MayForm">False for a node started with --join (not in PEERS): it joins a running cluster, never forms one.</param>
/// <param name="Alone">This node has no other node to probe.</param>
/// <param name="IsMember">This node is in a cluster's membership already (Joining, WeaklyUp or Up).</param>
/// <param name="Answers">This round's answers, at most one per node.</param>
/// <param name="RoundsAsLowest">Consecutive earlier rounds in which this node was the lowest candidate of a majority.</param>
/// <param name="StableRounds">Rounds in a row this node must be the lowest candidate of a majority before it forms the cluster (at least 1).</param>
internal sealed record BootstrapView(
    ulong Self,
    IReadOnlySet<ulong> Peers,
    bool MayForm,
    bool Alone,
    bool IsMember,
    IReadOnlyList<BootstrapAnswer> Answers,
    int RoundsAsLowest,
    int StableRounds);
