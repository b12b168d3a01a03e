using System.Collections.Concurrent;
using System.Globalization;
using LsmRaft.Protocol.Cluster;

namespace LsmRaft.Host.Node;

/// <summary>
/// The names operators gave nodes (<c>PEER_ID=n1</c>, <c>PEERS=n1:...</c>), by node id, for everything a person reads:
/// <c>/v1/cluster</c>, CLI output and logs. A name's id is computed from the name (<see cref="NodeIds"/>), so this is
/// only the way back; it is filled from PEERS at start and from the node registry (nodes that joined later), and a node
/// with an integer id is named by that integer.
/// </summary>
internal sealed class NodeNames
{
    private readonly ConcurrentDictionary<ulong, string> _names = new();

    /// <summary>Records <paramref name="name"/> for <paramref name="id"/> when it is a name whose id it is (anything else is ignored).</summary>
    public void Learn(ulong id, string? name)
    {
        if (name is not null && NodeIds.IsValidName(name) && NodeIds.FromName(name) == id)
            _names[id] = name;
    }

    /// <summary>The node's name, or its id in decimal when it has none (integer ids, or a name not learned yet).</summary>
    public string NameOf(ulong id) =>
        _names.TryGetValue(id, out var name) ? name : id.ToString(CultureInfo.InvariantCulture);
}
