using Akka.Actor;
using Akka.Serialization;
using LsmRaft.Host.Membership.Bootstrap;
using LsmRaft.Host.Tests.DataPlane;
using LsmRaft.Protocol.Bootstrap;

namespace LsmRaft.Host.Tests.Membership;

/// <summary>The bootstrap's probe and answer have their own serializer (never Akka's JSON fallback).</summary>
public sealed class BootstrapSerializerTests : IAsyncLifetime
{
    private readonly ActorSystem _system = RemoteSystems.Start();

    [Fact]
    public void Probe_and_answer_are_bound_to_the_bootstrap_serializer_and_round_trip()
    {
        var answer = new BootstrapAnswer { Node = 3, Round = 9, Member = true, Evaluated = true };
        answer.Members.Add("akka.lsmauth.tcp://lsmraft-default@127.0.0.1:18080");
        answer.Candidates.Add(2);
        foreach (object message in new object[] { new BootstrapProbe { Node = 2, Round = 9 }, answer })
        {
            var serializer = _system.Serialization.FindSerializerFor(message);
            serializer.Should().BeOfType<BootstrapSerializer>();
            serializer.Identifier.Should().Be(4713);
            byte[] bytes = serializer.ToBinary(message);
            string manifest = Akka.Serialization.Serialization.ManifestFor(serializer, message);
            _system.Serialization.Deserialize(bytes, serializer.Identifier, manifest).Should().Be(message);
        }
    }

    [Fact]
    public void An_unknown_manifest_or_malformed_bytes_are_refused_with_a_message()
    {
        var serializer = (SerializerWithStringManifest)_system.Serialization.FindSerializerFor(new BootstrapProbe());
        var unknown = () => serializer.FromBinary([], "Z");
        unknown.Should().Throw<System.Runtime.Serialization.SerializationException>().WithMessage("*Unknown bootstrap message manifest 'Z'*");
        var malformed = () => serializer.FromBinary([0x0a, 0xff], "A");
        malformed.Should().Throw<System.Runtime.Serialization.SerializationException>().WithMessage("*malformed (2 bytes)*");
        var other = () => serializer.ToBinary("text");
        other.Should().Throw<ArgumentException>();
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _system.Terminate();
}
