using LsmRaft.Raft;

namespace LsmRaft.Raft.Tests;

/// <summary>Helpers for tests that drive a single <see cref="RaftNode"/> by hand.</summary>
internal static class RaftTestKit
{
    public static (RaftNode Node, MemoryRaftStorage Storage) NewNode(ulong id, ulong[] voters, Func<RaftConfig, RaftConfig>? configure = null, MemoryRaftStorage? storage = null)
    {
        storage ??= new MemoryRaftStorage(new ConfState(voters, []));
        var config = new RaftConfig { Id = id, ElectionTicks = 10, HeartbeatTicks = 1, Random = new Random((int)id) };
        config = configure?.Invoke(config) ?? config;
        return (new RaftNode(config, storage), storage);
    }

    /// <summary>Process one Ready the way a shell would (persist, then hand out messages, then advance).</summary>
    public static Ready Drain(RaftNode node, MemoryRaftStorage storage)
    {
        if (!node.HasReady())
        {
            return new Ready();
        }

        var rd = node.GetReady();
        if (rd.Snapshot is { } s)
        {
            storage.ApplySnapshot(s);
        }

        storage.Append(rd.Entries);
        if (rd.HardState is { } hs)
        {
            storage.SetHardState(hs);
        }

        node.Advance(rd);
        return rd;
    }

    public static IReadOnlyList<Message> DrainMessages(RaftNode node, MemoryRaftStorage storage) => Drain(node, storage).Messages;

    public static Message Msg(MessageType type, ulong from, ulong to, ulong term, ulong logTerm = 0, ulong index = 0, ulong commit = 0, params Entry[] entries) =>
        new() { Type = type, From = from, To = to, Term = term, LogTerm = logTerm, Index = index, Commit = commit, Entries = entries };

    public static Entry E(ulong term, ulong index, string data = "") => new(term, index, EntryType.Normal, System.Text.Encoding.UTF8.GetBytes(data));

    /// <summary>A storage already holding <paramref name="entries"/> and <paramref name="hardState"/>.</summary>
    public static MemoryRaftStorage StorageWith(ulong[] voters, HardState hardState, params Entry[] entries)
    {
        var storage = new MemoryRaftStorage(new ConfState(voters, []));
        storage.Append(entries);
        storage.SetHardState(hardState);
        return storage;
    }

    /// <summary>A started environment with a leader elected: node 1 of <paramref name="n"/> voters.</summary>
    public static InteractionEnv ClusterWithLeader(int n, string options = "")
    {
        var env = new InteractionEnv();
        var voters = string.Join(",", Enumerable.Range(1, n));
        env.Handle($"add-nodes {n} voters=({voters}) {options}");
        env.Handle("campaign 1");
        env.Handle("stabilize");
        return env;
    }

    public static IReadOnlyList<Entry> StoredLog(TestNode node) =>
        node.Storage.Entries(node.Storage.FirstIndex(), node.Storage.LastIndex() + 1, ulong.MaxValue);
}
