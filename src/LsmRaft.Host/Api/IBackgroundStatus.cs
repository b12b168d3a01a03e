using LsmRaft.Actors.Background;

namespace LsmRaft.Host.Api;

/// <summary>The node's background pipelines as <c>GET /v1/admin/background</c> reports them.</summary>
public interface IBackgroundStatus
{
    BackgroundState BackgroundState { get; }
}
