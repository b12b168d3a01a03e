using System.Reflection;
using Akka.Serialization;
using LsmRaft.Actors.Replica;
using LsmRaft.Host.Sharding;
using LsmRaft.Host.Tests.Sharding;
using LsmRaft.Protocol.Bootstrap;
using LsmRaft.Protocol.Peer;

namespace LsmRaft.Host.Tests.Membership;

/// <summary>
/// Nothing of ours that crosses Akka.Remote falls back to Akka's JSON serializer (AKKA.md: 9-11 k msgs/s; issue 11),
/// checked on an actor system configured exactly as a node's (hocon/lsmraft.conf and cluster.conf with the node's
/// overrides). <c>serialize-messages</c> cannot catch this: JSON round-trips most records fine. Nodes run with it off.
/// </summary>
public sealed class RemoteSerializerBindingTests
{
    private static readonly Assembly[] OurAssemblies = [typeof(ReplicaSharding).Assembly, typeof(ReplicaActor).Assembly, typeof(PeerBatch).Assembly];

    [Fact]
    public async Task No_type_of_ours_that_crosses_akka_remote_resolves_to_the_json_serializer()
    {
        await using var node = ReplicaSystem.Start(1, seed: null, verifyMessages: false);
        var serialization = node.System.Serialization;

        // What crosses: what the replica region carries between nodes (every command its message extractor accepts, and
        // its hand-off message), PeerLink's batch, the cluster bootstrap's probe and answer, and every type of ours the
        // node's configuration binds, with all their concrete subtypes in our assemblies.
        var bound = node.System.Settings.Config.GetConfig("akka.actor.serialization-bindings").AsEnumerable()
            .Select(binding => Type.GetType(binding.Key.Trim('"'), throwOnError: false))
            .OfType<Type>()
            .Where(t => OurAssemblies.Contains(t.Assembly));
        Type[] roots = [typeof(ReplicaEntityCommand), typeof(HandOffReplicaEntity), typeof(PeerBatch), typeof(BootstrapProbe), typeof(BootstrapAnswer), .. bound];
        var crossing = OurAssemblies.SelectMany(a => a.GetTypes())
            .Where(t => !t.IsAbstract && !t.IsInterface && roots.Any(root => root.IsAssignableFrom(t)))
            .Distinct()
            .ToList();
        crossing.Should().Contain([typeof(StartReplicaEntity), typeof(StopReplicaEntity), typeof(HandOffReplicaEntity), typeof(PeerBatch), typeof(BootstrapProbe), typeof(BootstrapAnswer)]);

        foreach (var type in crossing)
        {
            var serializer = serialization.FindSerializerForType(type);
            serializer.Should().NotBeOfType<NewtonSoftJsonSerializer>($"{type} crosses Akka.Remote: bind it in hocon/lsmraft.conf");
            serializer.Should().BeAssignableTo<SerializerWithStringManifest>($"{type} needs a compact manifest, not its type name on every message")
                .Which.GetType().Namespace.Should().StartWith("LsmRaft.", $"{type} is ours, so is its format");
        }
    }

    [Fact]
    public async Task Every_replica_region_command_round_trips_through_its_bound_serializer()
    {
        // A new command added to the region without a manifest in ReplicaEntitySerializer would resolve to it (the base
        // type is bound) and fail on the wire; this finds every command by reflection, so none is missed.
        await using var node = ReplicaSystem.Start(1, seed: null, verifyMessages: false);
        var serialization = node.System.Serialization;
        var commands = typeof(ReplicaEntityCommand).Assembly.GetTypes()
            .Where(t => !t.IsAbstract && typeof(ReplicaEntityCommand).IsAssignableFrom(t))
            .ToList();
        commands.Should().Contain([typeof(StartReplicaEntity), typeof(StopReplicaEntity)]);

        foreach (var type in commands)
        {
            var command = (ReplicaEntityCommand)Activator.CreateInstance(type, 3UL, 12UL, 7UL)!;
            var serializer = serialization.FindSerializerFor(command);
            byte[] bytes = serializer.ToBinary(command);
            serialization.Deserialize(bytes, serializer.Identifier, Akka.Serialization.Serialization.ManifestFor(serializer, command))
                .Should().Be(command, $"{type} must survive the wire");
        }
    }
}
