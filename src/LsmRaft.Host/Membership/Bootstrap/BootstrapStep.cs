namespace LsmRaft.Host.Membership.Bootstrap;

/// <summary>What a node does after a probe round (<see cref="BootstrapRule.Decide"/>).</summary>
internal abstract record BootstrapStep
{
    private BootstrapStep()
    {
    }

    /// <summary>This node is a member: stop probing (it keeps answering others).</summary>
    public sealed record Member : BootstrapStep;

    /// <summary>Node <paramref name="Through"/> is a member of a cluster: join it through the members it named.</summary>
    public sealed record Join(ulong Through, IReadOnlyList<string> Seeds) : BootstrapStep;

    /// <summary>This node forms the cluster: it joins itself.</summary>
    public sealed record Form(int Seen, int Needed) : BootstrapStep;

    /// <summary>Probe again.</summary>
    /// <param name="SeesMajority">Self and the non-member peers that answered are a majority of PEERS: this node is a candidate.</param>
    /// <param name="Lowest">A candidate with no lower candidate known: another stable round counts towards forming.</param>
    /// <param name="Why">What it waits for, for the log.</param>
    public sealed record Wait(bool SeesMajority, bool Lowest, string Why) : BootstrapStep;
}
