namespace LsmRaft.Host.Membership;

/// <summary>
/// Published on the actor system's event stream when <see cref="AuthenticatedTransport"/> refuses an association: the
/// other side did not prove the cluster key (a stranger, another cluster, or a node with another secret or GROUP_ID).
/// </summary>
/// <param name="Remote">The other end's transport address (for an inbound association, its outbound socket).</param>
/// <param name="Inbound">True when the other side dialled this node.</param>
/// <param name="Reason">What failed, for the log and for tests.</param>
internal sealed record AssociationRefused(string Remote, bool Inbound, string Reason);
