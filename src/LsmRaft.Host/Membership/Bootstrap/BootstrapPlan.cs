namespace LsmRaft.Host.Membership.Bootstrap;

/// <summary>How one node finds or forms the Akka cluster (<see cref="BootstrapActor"/>).</summary>
/// <param name="Self">This node's id.</param>
/// <param name="Peers">The ids in PEERS (just this node's for a single node); empty for a node started with --join.</param>
/// <param name="MayForm">False for a node started with --join: it never forms a cluster of its own.</param>
/// <param name="Contacts">Where to probe (host, Akka port): the other peers of PEERS, or the --join target and the peers this node knows.</param>
/// <param name="Settings">Probe interval and stable rounds (<c>lsmraft.bootstrap</c> in hocon/cluster.conf).</param>
internal sealed record BootstrapPlan(
    ulong Self,
    IReadOnlySet<ulong> Peers,
    bool MayForm,
    IReadOnlyList<(string Host, int Port)> Contacts,
    BootstrapSettings Settings);
