using System.Text;
using LsmRaft.Raft;

namespace LsmRaft.Raft.Tests;

/// <summary>Compact, stable text forms of Raft values for data-driven test output.</summary>
internal static class RaftFormat
{
    public static string Entry(Entry e) => e.Type == EntryType.ConfChange
        ? $"{e.Term}/{e.Index} EntryConfChange {ConfChange.Decode(e.Data)}"
        : $"{e.Term}/{e.Index} EntryNormal \"{Encoding.UTF8.GetString(e.Data)}\"";

    public static string Entries(IEnumerable<Entry> entries) => string.Join(", ", entries.Select(Entry));

    public static string Snapshot(RaftSnapshot s) => $"Index:{s.Index} Term:{s.Term} {s.Metadata.ConfState}";

    public static string Message(Message m)
    {
        var sb = new StringBuilder();
        sb.Append($"{m.From}->{m.To} Msg{m.Type} Term:{m.Term}");
        switch (m.Type)
        {
            case MessageType.Heartbeat or MessageType.HeartbeatResp or MessageType.TimeoutNow
                or MessageType.TransferLeader:
                break;
            case MessageType.ReadIndexResp:
                sb.Append($" Index:{m.Index}");
                break;
            default:
                if (m.Type != MessageType.Snap && (m.LogTerm != 0 || m.Index != 0))
                {
                    sb.Append($" Log:{m.LogTerm}/{m.Index}");
                }

                break;
        }

        if (m.Commit != 0)
        {
            sb.Append($" Commit:{m.Commit}");
        }

        if (m.Reject)
        {
            sb.Append(m.Type == MessageType.AppResp ? $" Rejected (Hint: {m.RejectHint})" : " Rejected");
        }

        if (m.Entries.Count > 0)
        {
            sb.Append($" Entries:[{Entries(m.Entries)}]");
        }

        if (m.Snapshot is { } s)
        {
            sb.Append($" Snapshot:[{Snapshot(s)}]");
        }

        if (m.Context is { Length: > 0 } ctx)
        {
            sb.Append($" Context:{Encoding.UTF8.GetString(ctx)}");
        }

        if (m.Quiesce)
        {
            sb.Append(" Quiesce");
        }

        return sb.ToString();
    }

    public static string Role(RaftRole role) => role switch
    {
        RaftRole.Leader => "StateLeader",
        RaftRole.Candidate => "StateCandidate",
        RaftRole.PreCandidate => "StatePreCandidate",
        _ => "StateFollower",
    };

    public static void Ready(StringBuilder sb, Ready rd)
    {
        const string indent = "  ";
        sb.Append(indent).Append(rd.MustSync ? "Ready MustSync=true:" : "Ready MustSync=false:").Append('\n');
        if (rd.SoftState is { } soft)
        {
            sb.Append(indent).Append($"Lead:{soft.Lead} State:{Role(soft.Role)}").Append('\n');
        }

        if (rd.HardState is { } hard)
        {
            sb.Append(indent).Append($"HardState Term:{hard.Term} Vote:{hard.Vote} Commit:{hard.Commit}").Append('\n');
        }

        Section(sb, "Entries:", rd.Entries.Select(Entry));
        if (rd.Snapshot is { } snap)
        {
            sb.Append(indent).Append($"Snapshot {Snapshot(snap)}").Append('\n');
        }

        Section(sb, "CommittedEntries:", rd.CommittedEntries.Select(Entry));
        Section(sb, "Messages:", rd.Messages.Select(Message));
        Section(sb, "ReadStates:", rd.ReadStates.Select(r => $"Index:{r.Index} Context:{Encoding.UTF8.GetString(r.RequestContext)}"));
    }

    private static void Section(StringBuilder sb, string title, IEnumerable<string> lines)
    {
        var list = lines.ToList();
        if (list.Count == 0)
        {
            return;
        }

        sb.Append("  ").Append(title).Append('\n');
        foreach (var line in list)
        {
            sb.Append("  ").Append(line).Append('\n');
        }
    }
}
