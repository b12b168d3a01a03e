using System.Net;
using System.Text;
using LsmRaft.Host.Config;
using LsmRaft.Host.DataPlane;
using LsmRaft.Host.Tests.Cluster;

namespace LsmRaft.Host.Tests.DataPlane;

/// <summary>Three real nodes with <c>LSMRAFT_DATA_PLANE=akka</c>: Raft traffic and forwarded requests over PeerLink.</summary>
public sealed class AkkaDataPlaneClusterTests
{
    [Fact]
    public async Task Writes_through_any_node_replicate_and_are_read_through_every_node_over_PeerLink()
    {
        await using var cluster = await InProcessCluster.StartAsync(3, configure: c => c with { DataPlane = DataPlaneKind.Akka });
        await cluster.WaitUntilReadyAsync();
        foreach (ulong node in new ulong[] { 1, 2, 3 })
        {
            using var client = cluster.ClientFor(node);
            for (int i = 0; i < 10; i++)
            {
                var put = await client.PutAsync($"/v1/kv/n{node}k{i}", new ByteArrayContent(Encoding.UTF8.GetBytes($"v{node}.{i}")));
                put.IsSuccessStatusCode.Should().BeTrue($"PUT through node {node} answered {(int)put.StatusCode}: {await put.Content.ReadAsStringAsync()}");
            }
        }
        foreach (ulong node in new ulong[] { 1, 2, 3 })
        {
            using var client = cluster.ClientFor(node);
            for (int i = 0; i < 10; i++)
            {
                var get = new HttpRequestMessage(HttpMethod.Get, $"/v1/kv/n{4 - node}k{i}");
                get.Headers.Accept.ParseAdd("application/octet-stream");
                var response = await client.SendAsync(get);
                response.StatusCode.Should().Be(HttpStatusCode.OK, $"node {node} reads n{4 - node}k{i}");
                (await response.Content.ReadAsStringAsync()).Should().Be($"v{4 - node}.{i}");
            }
        }

        foreach (ulong node in new ulong[] { 1, 2, 3 })
        {
            var link = cluster.Runtime(node).DataPlane.Should().BeOfType<PeerLink>().Subject;
            foreach (ulong peer in new ulong[] { 1, 2, 3 }.Where(p => p != node))
            {
                link.IsConnected(peer).Should().BeTrue($"node {node} is associated with node {peer}");
                link.SentTo(peer).Messages.Should().BePositive($"node {node} sent Raft traffic to node {peer} over Akka.Remote");
            }
        }
    }
}
