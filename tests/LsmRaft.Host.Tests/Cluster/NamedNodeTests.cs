using System.Net;
using System.Text;
using System.Text.Json;
using LsmRaft.Protocol.Cluster;
using LsmRaft.Protocol.Peer;

namespace LsmRaft.Host.Tests.Cluster;

/// <summary>
/// The origin's way of naming a cluster: nodes n1..n3 (PEERS=n1:n1:port,...), host names mapped to 127.0.0.1, no cluster
/// secret (peers authenticate by GROUP_ID), its GROUP_ID and FLUSH_THRESHOLD_BYTES=1024.
/// </summary>
public sealed class NamedNodeTests
{
    private const string OriginGroup = "3fa85f64-5717-4562-b3fc-2c963f66afa6";
    private static readonly string[] Names = ["n1", "n2", "n3"];

    [Fact]
    public async Task Named_nodes_without_a_secret_form_a_cluster_show_their_names_and_keep_their_ids_when_peers_is_reordered()
    {
        await using var cluster = await InProcessCluster.StartAsync(3, shardsPerNode: 1, names: Names,
            configure: c => c with { ClusterSecret = null, GroupId = OriginGroup, FlushThresholdBytes = 1024 });
        await cluster.WaitUntilReadyAsync();
        ulong n1 = NodeIds.FromName("n1"), n2 = NodeIds.FromName("n2"), n3 = NodeIds.FromName("n3");

        using (var client = cluster.ClientFor(n1))
            for (int i = 0; i < 30; i++)
            {
                var put = await client.PutAsync($"/v0/entity?id=k{i}", new ByteArrayContent(Encoding.UTF8.GetBytes($"v{i}")));
                put.StatusCode.Should().Be(HttpStatusCode.Created, $"PUT k{i} through n1: {await put.Content.ReadAsStringAsync()}");
            }
        await ExpectValuesAsync(cluster, n3, 30);

        var nodes = await ClusterNodesAsync(cluster, n3);
        nodes.Should().Equal(Names.Select(n => (NodeIds.FromName(n), n)).OrderBy(n => n.Item1));

        // n2 restarts with PEERS in the opposite order: same ids, same members, its data served again.
        await cluster.StopNodeAsync(n2);
        cluster.Reconfigure(n2, c => c with { Peers = c.Peers.Reverse().ToList() });
        await cluster.StartNodeAsync(n2);
        await cluster.WaitUntilReadyAsync();
        await ExpectValuesAsync(cluster, n2, 30);
        (await ClusterNodesAsync(cluster, n2)).Should().Equal(nodes, "a name's id does not depend on the order of PEERS");
    }

    [Fact]
    public async Task Without_a_secret_the_peer_port_refuses_another_group_and_a_key_not_derived_from_its_group()
    {
        await using var cluster = await InProcessCluster.StartAsync(2, shardsPerNode: 1, names: ["n1", "n2"],
            configure: c => c with { ClusterSecret = null, GroupId = OriginGroup });
        int port = cluster.Configs[0].Port;
        ulong n2 = NodeIds.FromName("n2");

        var foreign = await PeerHandshakeTests.HelloAsync(port, "another-group", PeerAuthentication.GroupIdKey("another-group"), n2);
        foreign.HelloReject.Code.Should().Be(HelloRejectCode.WrongCluster, foreign.HelloReject.Reason);

        var wrongKey = await PeerHandshakeTests.HelloAsync(port, OriginGroup, PeerAuthentication.GroupIdKey("another-group"), n2);
        wrongKey.HelloReject.Code.Should().Be(HelloRejectCode.BadProof, wrongKey.HelloReject.Reason);

        var member = await PeerHandshakeTests.HelloAsync(port, OriginGroup, PeerAuthentication.GroupIdKey(OriginGroup), n2);
        member.KindCase.Should().Be(LsmRaft.Protocol.Peer.Envelope.KindOneofCase.HelloAck, "a node of the group proves the key derived from the group id");
    }

    private static async Task ExpectValuesAsync(InProcessCluster cluster, ulong node, int count)
    {
        using var client = cluster.ClientFor(node);
        for (int i = 0; i < count; i++)
        {
            var get = await client.GetAsync($"/v0/entity?id=k{i}");
            get.StatusCode.Should().Be(HttpStatusCode.OK, $"k{i} through node {node}");
            (await get.Content.ReadAsStringAsync()).Should().Be($"v{i}");
        }
    }

    private static async Task<List<(ulong Id, string Name)>> ClusterNodesAsync(InProcessCluster cluster, ulong node)
    {
        using var client = cluster.ClientFor(node);
        using var view = JsonDocument.Parse(await client.GetStringAsync("/v1/cluster"));
        return view.RootElement.GetProperty("nodes").EnumerateArray()
            .Select(n => (n.GetProperty("id").GetUInt64(), n.GetProperty("name").GetString()!))
            .OrderBy(n => n.Item1)
            .ToList();
    }
}
