using LsmRaft.Raft;
using LsmRaft.Actors.Replica;
using LsmRaft.Storage;
using LsmRaft.Storage.IO;

namespace LsmRaft.Actors.Tests.Replica;

public sealed class KvStateMachineTests
{
    private static byte[] B(string s) => System.Text.Encoding.ASCII.GetBytes(s);

    private static (KvStateMachine Machine, LsmEngine Engine) Open()
    {
        var fs = new MemoryFileSystem();
        fs.CreateDirectory("/engine");
        var engine = LsmEngine.Open("/engine", new LsmOptions { FileSystem = fs, Sync = SyncMode.None, EnableWal = false });
        return (new KvStateMachine(engine, ShardDescriptor.WholeRing), engine);
    }

    private static Entry Normal(ulong index, byte[] data) => new(1, index, EntryType.Normal, data);

    [Fact]
    public void Commands_in_one_group_see_the_puts_staged_before_them()
    {
        var (machine, engine) = Open();
        using var _ = engine;
        var results = machine.ApplyAll(
        [
            Normal(1, KvCommand.Put(B("k"), B("v1")).Encode()),
            Normal(2, KvCommand.CompareAndSet(B("k"), 1, B("v2")).Encode()),
            Normal(3, KvCommand.CompareAndSet(B("k"), 1, B("v3")).Encode()),
            Normal(4, KvCommand.Delete(B("k")).Encode()),
            Normal(5, KvCommand.Delete(B("k")).Encode()),
            Normal(6, KvCommand.Put(B("other"), B("x")).Encode()),
        ]);

        results.Should().Equal(
            new ApplyResult.Applied(1, true),
            new ApplyResult.Applied(2, true),
            new ApplyResult.Conflict(2),
            new ApplyResult.Applied(0, true),
            new ApplyResult.Applied(0, false),
            new ApplyResult.Applied(6, true));
        machine.AppliedIndex.Should().Be(6);
        machine.Get(B("k")).Should().BeNull();
        var other = machine.Get(B("other"));
        other!.Value.Value.Should().Equal(B("x"));
        other.Value.Version.Should().Be(6);
    }

    [Fact]
    public void A_put_stores_the_entry_index_as_its_version_beside_the_value()
    {
        var (machine, engine) = Open();
        using var _ = engine;
        var value = new byte[300];
        new Random(3).NextBytes(value);
        machine.ApplyAll([Normal(7, KvCommand.Put(B("key"), value).Encode())]);

        var stored = engine.Get(B("key"))!;
        KvStateMachine.Decode(stored).Value.Should().Equal(value);
        KvStateMachine.Decode(stored).Version.Should().Be(7);
    }

    [Fact]
    public void A_truncated_put_is_not_a_command_and_writes_nothing()
    {
        var (machine, engine) = Open();
        using var _ = engine;
        var encoded = KvCommand.Put(B("key"), B("value")).Encode();
        var results = machine.ApplyAll([Normal(1, encoded[..^1]), Normal(2, [.. encoded, 0])]);

        results[0].Should().BeOfType<ApplyResult.NotACommand>();
        results[1].Should().BeOfType<ApplyResult.NotACommand>();
        engine.Get(B("key")).Should().BeNull();
        machine.AppliedIndex.Should().Be(2);
    }

    [Fact]
    public void Reading_a_put_in_place_yields_the_same_key_and_value_as_decoding_it()
    {
        var encoded = KvCommand.Put(B("some-key"), new byte[200]).Encode();
        KvCommand.TryReadPut(encoded, out var key, out var value).Should().BeTrue();
        var decoded = KvCommand.Decode(encoded);
        encoded.AsSpan(key).ToArray().Should().Equal(decoded.Operations[0].Key);
        encoded.AsSpan(value).ToArray().Should().Equal(decoded.Operations[0].Value);
        KvCommand.TryReadPut(KvCommand.Delete(B("k")).Encode(), out _, out _).Should().BeFalse();
    }
}
