using System.Globalization;
using LsmRaft.Protocol.Bootstrap;

namespace LsmRaft.Host.Membership.Bootstrap;

/// <summary>
/// The one rule by which a node finds or forms the Akka cluster (docs/architecture.md, "How the cluster forms"), pure so
/// that it is tested as a table:
/// <list type="number">
/// <item>a member stops probing;</item>
/// <item>a node that hears from a member of a cluster joins that cluster (the lowest such node's, through the members it names);</item>
/// <item>a node started with --join never forms a cluster: it waits until a member answers;</item>
/// <item>a node in PEERS forms the cluster (joins itself) when it and the non-member peers that answered are a majority of
/// PEERS, no lower candidate is known, and that has held for <see cref="BootstrapView.StableRounds"/> rounds in a row. A
/// candidate is a node that saw a majority in its last round. Lower candidates known: peers that answered and are
/// candidates or have not finished a round yet (they may become one), and candidates that the answering peers report;</item>
/// <item>a single node (PEERS names at most itself) with no other node to probe forms its cluster at once; one that knows
/// nodes that joined it later (--join) probes them like any node (it is a majority by itself, but their cluster may run).</item>
/// </list>
/// Majorities of PEERS intersect, so while answers flow both ways within the stable rounds, no two nodes form a cluster
/// each: a node in both majorities reports the lower candidate to the higher one, and joins the first cluster formed,
/// which it then reports as such. What an asymmetric partition or long delays can still do is documented beside it.
/// </summary>
internal static class BootstrapRule
{
    public static BootstrapStep Decide(BootstrapView view)
    {
        if (view.IsMember)
            return new BootstrapStep.Member();
        if (view.Answers.Where(a => a.Member && a.Members.Count > 0).MinBy(a => a.Node) is { } member)
            return new BootstrapStep.Join(member.Node, [.. member.Members]);
        if (!view.MayForm)
            return new BootstrapStep.Wait(false, false, "it joins a running cluster only (--join); no member has answered yet");
        if (view.Alone && view.Peers.All(p => p == view.Self))
            return new BootstrapStep.Form(1, 1);

        int needed = view.Peers.Count / 2 + 1;
        var seen = view.Answers.Where(a => !a.Member && a.Node != view.Self && view.Peers.Contains(a.Node)).Select(a => a.Node).Append(view.Self).ToHashSet();
        if (seen.Count < needed)
            return new BootstrapStep.Wait(false, false,
                $"waiting for a majority of PEERS: seen {seen.Count} of {view.Peers.Count} ({Ids(seen)}), {needed} needed");

        var lower = LowerCandidates(view);
        if (lower.Count > 0)
            return new BootstrapStep.Wait(true, false,
                $"{seen.Count} of {view.Peers.Count} PEERS answer; waiting for node {lower.Min()} (a lower candidate) to form the cluster");
        if (view.RoundsAsLowest + 1 >= view.StableRounds)
            return new BootstrapStep.Form(seen.Count, needed);
        return new BootstrapStep.Wait(true, true,
            $"lowest of {seen.Count} of {view.Peers.Count} PEERS answering ({Ids(seen)}) for {view.RoundsAsLowest + 1} of {view.StableRounds} rounds");
    }

    /// <summary>Candidates in PEERS with a lower id than this node: a peer's own answer speaks for it; others' reports count for peers that did not answer.</summary>
    private static HashSet<ulong> LowerCandidates(BootstrapView view)
    {
        var direct = view.Answers.Where(a => a.Node != view.Self).ToDictionary(a => a.Node);
        var lower = new HashSet<ulong>();
        foreach (var answer in direct.Values)
        {
            if (answer.Node < view.Self && view.Peers.Contains(answer.Node) && (!answer.Evaluated || answer.Candidates.Contains(answer.Node)))
                lower.Add(answer.Node);
            foreach (ulong reported in answer.Candidates)
                if (reported < view.Self && view.Peers.Contains(reported) && !direct.ContainsKey(reported))
                    lower.Add(reported);
        }
        return lower;
    }

    private static string Ids(IEnumerable<ulong> ids) =>
        "nodes " + string.Join(", ", ids.Order().Select(id => id.ToString(CultureInfo.InvariantCulture)));
}
