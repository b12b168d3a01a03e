using System.Net;
using System.Net.Sockets;
using LsmRaft.Protocol.Cluster;

namespace LsmRaft.Tests.Shared;

/// <summary>Loopback ports free at the time of the call (linked into every test project that starts nodes).</summary>
internal static class LoopbackPorts
{
    public static int[] Free(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        foreach (var l in listeners)
            l.Start();
        var ports = listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        foreach (var l in listeners)
            l.Stop();
        return ports;
    }

    /// <summary>
    /// <paramref name="count"/> peer ports (PORT) whose default Akka port (<see cref="AkkaPorts.DefaultFor"/>) is free too,
    /// followed by <paramref name="others"/> more free ports none of those use: nodes then run with the origin's variables
    /// (PORT, PEERS), no AKKA_PORT.
    /// </summary>
    public static int[] FreePeerPorts(int count, int others = 0)
    {
        var peers = new List<int>();
        var taken = new HashSet<int>();
        for (int round = 0; peers.Count < count; round++)
        {
            if (round == 100)
                throw new InvalidOperationException($"Could not find {count} free loopback ports whose Akka ports (+/-{AkkaPorts.Offset}) are free too.");
            foreach (int port in Free(count - peers.Count))
            {
                int akka = AkkaPorts.DefaultFor(port);
                if (!taken.Contains(port) && !taken.Contains(akka) && IsFree(akka))
                {
                    peers.Add(port);
                    taken.Add(port);
                    taken.Add(akka);
                }
            }
        }
        var rest = new List<int>();
        while (rest.Count < others)
            rest.AddRange(Free(others - rest.Count).Where(taken.Add));
        return [.. peers, .. rest];
    }

    /// <summary>Per node, a peer port whose default Akka port is free too, then an HTTP port: [peer1, http1, peer2, http2, ...].</summary>
    public static int[] FreeNodePorts(int nodes)
    {
        var ports = FreePeerPorts(nodes, others: nodes);
        return Enumerable.Range(0, nodes).SelectMany(i => new[] { ports[i], ports[nodes + i] }).ToArray();
    }

    private static bool IsFree(int port)
    {
        var listener = new TcpListener(IPAddress.Loopback, port);
        try
        {
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
        finally
        {
            listener.Stop();
        }
    }
}
