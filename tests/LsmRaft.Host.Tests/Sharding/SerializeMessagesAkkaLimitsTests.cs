using System.Collections.Immutable;
using System.Reflection;
using Akka.Actor;
using Akka.Cluster;
using Akka.Serialization;
using Akka.Util;

namespace LsmRaft.Host.Tests.Sharding;

/// <summary>
/// Why the replica-region tests run with <c>akka.actor.serialize-messages = off</c> (<see cref="ReplicaSystem"/>): that
/// check round-trips every local message too, and two of Akka.NET 1.5.75's own local-only messages have no serializer
/// but Akka's JSON fallback, which breaks them. Run with the check on, the region test failed with both (the coordinator
/// never allocated). These tests pin the two causes on a node's own actor system; when one fails, Akka has fixed it,
/// and the region tests can try the check again.
/// </summary>
public sealed class SerializeMessagesAkkaLimitsTests
{
    [Fact]
    public async Task Akka_cluster_member_events_lose_the_members_age_through_the_json_serializer()
    {
        // ClusterEvent.MemberUp and the other member events go from the cluster's event publisher to local subscribers
        // (the singleton manager that hosts the shard coordinator among them). They bind to no serializer, so the check
        // sends them through NewtonSoftJsonSerializer, which writes public properties only: Member.UpNumber is internal
        // (Akka.Cluster/Member.cs) and comes back 0. Member age (IsOlderThan) then falls back to address order, nodes
        // disagree on the oldest member, the coordinator's singleton hand-over never completes
        // (ClusterSingletonManagerIsStuckException) and no shard is allocated: "seen in 2 of 3 runs" because it depends on
        // whether the first node drew the lowest port.
        await using var node = ReplicaSystem.Start(1, seed: null);
        var serialization = node.System.Serialization;
        var older = MemberAt(port: 3000, upNumber: 1);
        var younger = MemberAt(port: 2000, upNumber: 2);
        older.IsOlderThan(younger).Should().BeTrue("the up number decides age");

        var serializer = serialization.FindSerializerForType(typeof(ClusterEvent.MemberUp));
        serializer.Should().BeOfType<NewtonSoftJsonSerializer>();
        typeof(INoSerializationVerificationNeeded).IsAssignableFrom(typeof(ClusterEvent.MemberUp)).Should().BeFalse();
        var olderAfter = RoundTrip(serialization, serializer, new ClusterEvent.MemberUp(older)).Member;
        var youngerAfter = RoundTrip(serialization, serializer, new ClusterEvent.MemberUp(younger)).Member;
        olderAfter.IsOlderThan(youngerAfter).Should().BeFalse("the up numbers are lost: the lower address is now 'older'");
    }

    [Fact]
    public async Task Akka_distributed_data_read_repair_is_local_only_yet_neither_exempt_nor_bound()
    {
        // Akka.DistributedData's ReadAggregator tells its parent Replicator ReadRepair (ReadAggregator.cs, on a majority
        // read: how the shard coordinator reads its state with state-store-mode = ddata). ReadRepair is internal, never
        // leaves the node, implements neither INoSerializationVerificationNeeded nor IReplicatorMessage (the interface
        // DData's serializer is bound to), so the check takes it to JSON, where the envelope's version vector fails:
        // "Failed to serialize and deserialize payload object [Akka.DistributedData.Internal.ReadRepair] ...
        // Error getting value from 'Current' on 'ImmutableDictionary`2+Enumerator[UniqueAddress,Int64]'". Akka swallows
        // the error and drops the message; the coordinator's read never completes. No setting avoids both: the
        // persistence state-store mode would skip this read, but the member events above break the coordinator in either.
        await using var node = ReplicaSystem.Start(1, seed: null);
        var readRepair = typeof(Akka.DistributedData.IReplicatorMessage).Assembly.GetType("Akka.DistributedData.Internal.ReadRepair", throwOnError: true)!;
        typeof(INoSerializationVerificationNeeded).IsAssignableFrom(readRepair).Should().BeFalse();
        typeof(Akka.DistributedData.IReplicatorMessage).IsAssignableFrom(readRepair).Should().BeFalse();
        node.System.Serialization.FindSerializerForType(readRepair).Should().BeOfType<NewtonSoftJsonSerializer>();
    }

    private static Member MemberAt(int port, int upNumber)
    {
        var create = typeof(Member).GetMethod("Create", BindingFlags.NonPublic | BindingFlags.Static, [typeof(UniqueAddress), typeof(int), typeof(MemberStatus), typeof(ImmutableHashSet<string>), typeof(AppVersion)])
            ?? throw new MissingMethodException("Akka.Cluster.Member.Create(UniqueAddress, int, MemberStatus, ImmutableHashSet<string>, AppVersion) is gone: update this test.");
        var address = new UniqueAddress(new Address("akka.tcp", "lsmraft-test", "127.0.0.1", port), port);
        return (Member)create.Invoke(null, [address, upNumber, MemberStatus.Up, ImmutableHashSet.Create("replica"), AppVersion.Zero])!;
    }

    private static T RoundTrip<T>(Akka.Serialization.Serialization serialization, Serializer serializer, T message) where T : notnull =>
        (T)serialization.Deserialize(serializer.ToBinary(message), serializer.Identifier, Akka.Serialization.Serialization.ManifestFor(serializer, message));
}
