using System.Text;
using LsmRaft.Raft;
using LsmRaft.Actors.Replica;
using LsmRaft.Protocol.Hashing;
using LsmRaft.Storage;
using LsmRaft.Storage.IO;

namespace LsmRaft.Actors.Tests.Replica;

/// <summary>The Split command applied by <see cref="KvStateMachine"/>: the cut, the child's rows, refusals and replay.</summary>
public sealed class ShardSplitStateMachineTests : IDisposable
{
    private readonly MemoryFileSystem _fs = new();
    private readonly List<SplitCreated> _created = [];
    private readonly ReplicaOptions _options;
    private readonly LsmEngine _engine;

    public ShardSplitStateMachineTests()
    {
        _options = new ReplicaOptions
        {
            GroupId = 1,
            NodeId = 1,
            Directory = "/data/groups/1",
            EngineOptions = new LsmOptions { FileSystem = _fs, EnableWal = false, Sync = SyncMode.None },
            SplitCreated = _created.Add,
        };
        _fs.CreateDirectory(_options.Directory);
        _engine = LsmEngine.Open(SnapshotFiles.EngineDirectory(_options.Directory), _options.EngineOptions);
    }

    public void Dispose() => _engine.Dispose();

    private KvStateMachine Machine() =>
        new(_engine, ShardDescriptor.WholeRing, new SplitChildCreator(_options, _ => new ConfState([1, 2, 3], [])));

    private static Entry Put(ulong index, string key, string value) =>
        new(1, index, EntryType.Normal, KvCommand.Put(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(value)).Encode());

    private static Entry Split(ulong index, SplitRequest split) => new(1, index, EntryType.Normal, KvCommand.Split(split).Encode());

    private static readonly SplitRequest Half = new(ChildId: 7, SplitAt: 1UL << 63, ExpectedStart: 0, ExpectedEnd: ulong.MaxValue, ExpectedEpoch: 1);

    private static bool InChild(string key) => KeyHash.Hash(Encoding.UTF8.GetBytes(key)) >= Half.SplitAt;

    [Fact]
    public void A_split_moves_the_upper_half_to_a_durable_child_and_refuses_its_keys_afterwards()
    {
        var machine = Machine();
        var keys = Enumerable.Range(0, 200).Select(i => $"key{i:D3}").ToList();
        machine.ApplyAll(keys.Select((k, i) => Put((ulong)i + 1, k, $"v{i}")).ToList());

        var results = machine.ApplyAll([Split(201, Half), Put(202, keys.First(InChild), "late"), Put(203, keys.First(k => !InChild(k)), "kept")]);

        results[0].Should().BeOfType<ApplyResult.Split>().Which.Child.Should().Be(new ShardDescriptor(Half.SplitAt, ulong.MaxValue, 2));
        results[1].Should().BeOfType<ApplyResult.WrongShard>("the key belongs to the child after the split entry");
        results[2].Should().BeOfType<ApplyResult.Applied>();
        machine.Descriptor.Should().Be(new ShardDescriptor(0, Half.SplitAt - 1, 2));
        _created.Should().ContainSingle().Which.ChildId.Should().Be(7UL);

        using var child = LsmEngine.Open(SnapshotFiles.EngineDirectory("/data/groups/7"), _options.EngineOptions);
        var childMachine = new KvStateMachine(child, ShardDescriptor.WholeRing);
        childMachine.Descriptor.Should().Be(new ShardDescriptor(Half.SplitAt, ulong.MaxValue, 2));
        childMachine.AppliedIndex.Should().Be(0UL, "the child's log starts empty; the copy is its state before index 1");
        ReplicaManifest.Read(_fs, "/data/groups/7")!.Members.Voters.Should().BeEquivalentTo(new ulong[] { 1, 2, 3 });
        foreach (var (key, i) in keys.Select((k, i) => (k, i)))
        {
            var inParent = machine.Get(Encoding.UTF8.GetBytes(key));
            var inChild = childMachine.Get(Encoding.UTF8.GetBytes(key));
            if (InChild(key))
            {
                inParent.Should().BeNull(key);
                inChild!.Value.Version.Should().Be((ulong)i + 1, "versions move with the rows");
            }
            else
            {
                inChild.Should().BeNull(key);
                inParent.Should().NotBeNull(key);
            }
        }
    }

    [Fact]
    public void A_split_applied_again_after_a_restart_keeps_the_existing_child_and_still_cuts_the_parent()
    {
        var machine = Machine();
        machine.ApplyAll([Put(1, "a", "1"), Put(2, "b", "2"), Put(3, "c", "3"), Put(4, "d", "4")]);
        machine.ApplyAll([Split(5, Half)]);
        using (var child = LsmEngine.Open(SnapshotFiles.EngineDirectory("/data/groups/7"), _options.EngineOptions))
            child.Put("written-to-child-later"u8, new byte[9]);

        // Replay on a fresh engine (the parent's cut was lost with its memtable): the child is not rebuilt.
        using var replayEngine = LsmEngine.Open("/data/replay", _options.EngineOptions);
        var replay = new KvStateMachine(replayEngine, ShardDescriptor.WholeRing, new SplitChildCreator(_options, _ => new ConfState([1], [])));
        replay.ApplyAll([Put(1, "a", "1"), Put(2, "b", "2"), Put(3, "c", "3"), Put(4, "d", "4")]);
        replay.ApplyAll([Split(5, Half)])[0].Should().BeOfType<ApplyResult.Split>();
        _created.Should().HaveCount(1, "the child existed, so the replayed split did not create it again");
        using var again = LsmEngine.Open(SnapshotFiles.EngineDirectory("/data/groups/7"), _options.EngineOptions);
        again.Get("written-to-child-later"u8).Should().NotBeNull();
        foreach (var key in new[] { "a", "b", "c", "d" })
            (replay.Get(Encoding.UTF8.GetBytes(key)) is null).Should().Be(InChild(key), key);
    }

    [Fact]
    public void A_split_from_a_stale_map_or_outside_the_range_changes_nothing()
    {
        var machine = Machine();
        machine.ApplyAll([Put(1, "a", "1")]);
        machine.ApplyAll([Split(2, Half with { ExpectedEpoch = 5 })])[0].Should().BeOfType<ApplyResult.SplitRefused>();
        machine.ApplyAll([Split(3, Half with { SplitAt = 0 })])[0].Should().BeOfType<ApplyResult.SplitRefused>();
        machine.ApplyAll([Split(4, Half)])[0].Should().BeOfType<ApplyResult.Split>();
        machine.ApplyAll([Split(5, Half)])[0].Should().BeOfType<ApplyResult.SplitRefused>("the same split again finds the shard already cut");
        machine.Descriptor.Epoch.Should().Be(2UL);
        machine.ApplyAll([new Entry(1, 6, EntryType.Normal, KvCommand.Put([], [1]).Encode())])[0].Should().BeOfType<ApplyResult.NotACommand>("the empty key holds the descriptor");
    }

    [Fact]
    public void The_split_command_round_trips_and_rejects_truncation()
    {
        var encoded = KvCommand.Split(Half).Encode();
        KvCommand.Decode(encoded).SplitRequest.Should().Be(Half);
        var act = () => KvCommand.Decode(encoded.AsSpan(0, encoded.Length - 1));
        act.Should().Throw<FormatException>();
    }
}
