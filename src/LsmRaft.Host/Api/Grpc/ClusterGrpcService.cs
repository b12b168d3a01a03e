using Grpc.Core;
using LsmRaft.Protocol.Api.V1;
using LsmRaft.Protocol.Cluster;

namespace LsmRaft.Host.Api.Grpc;

/// <summary>The <c>lsmraft.v1.Cluster</c> gRPC service: the view <c>GET /v1/cluster</c> answers.</summary>
internal sealed class ClusterGrpcService(IKvService service) : Protocol.Api.V1.Cluster.ClusterBase
{
    public override Task<ClusterInfoResponse> ClusterInfo(ClusterInfoRequest request, ServerCallContext context) =>
        Task.FromResult(ClusterViewMessages.ToMessage(service.GetClusterView()));
}
