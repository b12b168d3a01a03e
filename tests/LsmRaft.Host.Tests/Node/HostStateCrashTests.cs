using System.Text.Json;
using LsmRaft.Actors.Replica;
using LsmRaft.Host.Node;
using LsmRaft.Host.Tests.Cluster;
using LsmRaft.Protocol.Cluster;
using LsmRaft.Storage.IO;

namespace LsmRaft.Host.Tests.Node;

/// <summary>
/// The files the host keeps under DATA_DIR (cluster.json, shard-map.json, peers.json, groups/BOOTSTRAPPED, the REPLICA
/// files) survive a power loss at any moment whole: the old contents or the new, never torn, never gone. Crashes are
/// <see cref="MemoryFileSystem.CrashCopy"/>: synced bytes survive, an unsynced tail may survive in part, with a
/// corrupted last byte.
/// </summary>
public sealed class HostStateCrashTests
{
    [Fact]
    public void An_atomic_write_interrupted_at_any_step_then_a_power_loss_leaves_the_old_or_the_new_contents()
    {
        byte[] old = Encoding.UTF8.GetBytes("{\"version\":1,\"padding\":\"" + new string('o', 300) + "\"}");
        byte[] @new = Encoding.UTF8.GetBytes("{\"version\":2,\"padding\":\"" + new string('n', 900) + "\"}");
        for (int seed = 0; seed < 50; seed++)
        {
            for (int crashAt = 0; crashAt <= 5; crashAt++)
            {
                var fs = new MemoryFileSystem();
                fs.CreateDirectory("/data");
                fs.WriteAtomically("/data/cluster.json", old);
                int operations = 0;
                fs.BeforeWrite = _ => { if (operations++ == crashAt) throw new IOException("the process died here"); };
                bool completed = true;
                try
                {
                    fs.WriteAtomically("/data/cluster.json", @new);
                }
                catch (IOException)
                {
                    completed = false;
                }
                var after = fs.CrashCopy(new Random(seed)).ReadAllBytes("/data/cluster.json");
                if (completed)
                    after.Should().Equal(@new, $"seed {seed}: a write that returned is durable");
                else
                    after.Should().Match<byte[]>(a => a.SequenceEqual(old) || a.SequenceEqual(@new), $"seed {seed}, crash before operation {crashAt}: old or new, whole");
            }
        }
    }

    [Fact]
    public void A_plain_rewrite_in_place_is_what_the_crash_test_catches()
    {
        // The file system and seeds of the test above do find torn or lost contents when a file is rewritten in place
        // without a temporary file and fsync (as File.WriteAllText does): the atomic write is what makes the difference.
        byte[] old = Encoding.UTF8.GetBytes(new string('o', 300)), @new = Encoding.UTF8.GetBytes(new string('n', 900));
        int damaged = 0;
        for (int seed = 0; seed < 50; seed++)
        {
            var fs = new MemoryFileSystem();
            fs.CreateDirectory("/data");
            fs.WriteAtomically("/data/cluster.json", old);
            using (var file = fs.Create("/data/cluster.json"))
                file.Append(@new);
            var after = fs.CrashCopy(new Random(seed)).ReadAllBytes("/data/cluster.json");
            if (!after.SequenceEqual(old) && !after.SequenceEqual(@new))
                damaged++;
        }
        damaged.Should().BeGreaterThan(0);
    }

    [Fact]
    public async Task A_node_on_a_crashable_disk_keeps_its_host_state_whole_through_power_losses_during_a_split_and_restarts_from_one()
    {
        var disk = new MemoryFileSystem();
        await using var cluster = await InProcessCluster.StartAsync(1, shardsPerNode: 2, fileSystemOf: _ => disk);
        await cluster.WaitUntilReadyAsync();
        string dataDir = cluster.Configs[0].DataDir;
        using var client = cluster.ClientFor(1);
        for (int i = 0; i < 40; i++)
            (await client.PutAsync($"/v1/kv/k{i:D2}", new StringContent($"v{i}"))).EnsureSuccessStatusCode();

        // A power loss right before every durable step (create, append, fsync, rename) of every host file written
        // from here on: a split writes the child's REPLICA file and the map copy, beside the engines' own files.
        var copies = new List<(MemoryFileSystem Disk, string Step)>();
        disk.BeforeWrite = path =>
        {
            if (HostFiles.Any(name => Path.GetFileName(path).StartsWith(name, StringComparison.Ordinal)))
                lock (copies)
                    copies.Add((disk.CrashCopy(new Random(copies.Count)), $"before a write to {path} (seed {copies.Count})"));
        };
        (await client.PostAsync("/v1/admin/shards/1/split", null)).StatusCode.Should().Be(HttpStatusCode.Accepted);
        await cluster.WaitUntilAsync(1, r => r.BuildClusterView().Shards.Count == 3, TimeSpan.FromSeconds(30), "the map lists the split's child");
        disk.BeforeWrite = null;
        lock (copies)
            copies.Add((disk.CrashCopy(new Random(1000)), "after the split (seed 1000)"));
        copies.Should().HaveCountGreaterThan(4, "the split wrote host files");
        foreach (var (copy, step) in copies)
            AssertHostStateWhole(copy, dataDir, step);

        // The node starts again from the last copy as from its disk, with every acknowledged write.
        await cluster.StopNodeAsync(1);
        await cluster.StartNodeAsync(1, copies[^1].Disk);
        await cluster.WaitUntilReadyAsync();
        cluster.Runtime(1).BuildClusterView().Shards.Should().HaveCount(3);
        for (int i = 0; i < 40; i++)
            JsonDocument.Parse(await client.GetStringAsync($"/v1/kv/k{i:D2}")).RootElement.GetProperty("value").GetString().Should().Be($"v{i}");
    }

    /// <summary>Names of the files the host writes (and their temporary files, which start the same).</summary>
    private static readonly string[] HostFiles = ["cluster.json", "shard-map.json", "peers.json", "BOOTSTRAPPED", ReplicaManifest.FileName];

    private static void AssertHostStateWhole(MemoryFileSystem fs, string dataDir, string what)
    {
        var layout = JsonSerializer.Deserialize<NodeRuntime.PersistedLayout>(fs.ReadAllBytes(Path.Combine(dataDir, "cluster.json")));
        layout!.Shards.Should().HaveCount(2, what);
        string groups = Path.Combine(dataDir, "groups");
        fs.FileExists(Path.Combine(groups, "BOOTSTRAPPED")).Should().BeTrue(what);
        string mapCopy = Path.Combine(dataDir, "shard-map.json");
        if (fs.FileExists(mapCopy))
            JsonSerializer.Deserialize<ShardInfo[]>(fs.ReadAllBytes(mapCopy)).Should().HaveCountGreaterThanOrEqualTo(2, what);
        foreach (var group in fs.ListDirectories(groups))
        {
            var manifest = ReplicaManifest.Read(fs, Path.Combine(groups, group));
            manifest?.GroupId.ToString().Should().Be(group, what);
        }
        fs.ListDirectories(groups).Should().Contain(["0", "1", "2"], what);
    }
}
