using System.Reflection;
using LsmRaft.Raft;
using LsmRaft.Host.Api;
using LsmRaft.Protocol.Cluster;

namespace LsmRaft.Host.Node;

/// <summary>What this node reports about itself (<c>GET /v1/node</c>): version, uptime, and each replica's Raft state and size.</summary>
internal sealed partial class NodeRuntime
{
    private readonly DateTimeOffset _startedAt = DateTimeOffset.UtcNow;

    /// <summary>The informational version of this build (version and commit), "unknown" when the build did not stamp one.</summary>
    public static string BuildVersion { get; } =
        typeof(NodeRuntime).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    /// <summary>The meta group's voters, fixed when the cluster was bootstrapped (empty before this node loaded its layout).</summary>
    public IReadOnlyList<ulong> MetaVoters => _layout?.MetaVoters ?? [];

    /// <summary>
    /// The node shows signs of life: its heartbeats are fresh, or this node holds a peer connection to it (heartbeats
    /// can fall behind on a loaded machine while the node is alive).
    /// </summary>
    public bool SeemsAlive(ulong nodeId, DateTimeOffset now) =>
        nodeId == _config.PeerId || LivenessOf(nodeId, now) == NodeState.Up || _transport!.IsConnected(nodeId);

    public NodeReport Report()
    {
        var now = DateTimeOffset.UtcNow;
        var replicas = _replicas.All
            .Select(r => (Handle: r, Status: r.Status))
            .Where(r => r.Status is { Removed: false })
            .OrderBy(r => r.Handle.GroupId)
            .Select(r => new ReplicaReport(r.Handle.GroupId, RoleName(r.Status!), r.Status!.Term, r.Status.Leader, r.Status.Commit, r.Status.Applied,
                DirectorySize(ReplicaDirectory(r.Handle.GroupId))))
            .ToList();
        return new NodeReport(_config.PeerId, BuildVersion, _startedAt, Math.Round((now - _startedAt).TotalSeconds, 1), replicas);
    }

    private string RoleName(LsmRaft.Actors.Replica.ReplicaStatus status) => status.Role switch
    {
        RaftRole.Leader => RoleNames.Leader,
        RaftRole.Candidate => RoleNames.Candidate,
        RaftRole.PreCandidate => RoleNames.PreCandidate,
        _ when status.Members.Learners.Contains(_config.PeerId) => RoleNames.Learner,
        _ => RoleNames.Follower,
    };

    /// <summary>Bytes of the files under <paramref name="directory"/>; files deleted while counting (compaction) are skipped.</summary>
    private static long DirectorySize(string directory)
    {
        long total = 0;
        try
        {
            foreach (var file in new DirectoryInfo(directory).EnumerateFiles("*", SearchOption.AllDirectories))
            {
                try
                {
                    total += file.Length;
                }
                catch (FileNotFoundException)
                {
                }
            }
        }
        catch (DirectoryNotFoundException)
        {
        }
        return total;
    }
}
