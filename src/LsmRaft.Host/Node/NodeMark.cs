using LsmRaft.Protocol.Cluster;

namespace LsmRaft.Host.Node;

/// <summary>
/// An operator's mark on a node, kept in the meta group with the shard map: <see cref="NodeState.Draining"/>
/// (<c>cluster leave</c>: the placement driver moves its replicas away, then marks it removed) or
/// <see cref="NodeState.Removed"/> (<c>cluster down</c>, or a finished drain: no placement targets it, and the
/// replicas it still holds are re-created elsewhere at once). <c>cluster join</c> clears the mark.
/// </summary>
internal sealed record NodeMark(ulong Node, NodeState State, DateTimeOffset Since);
