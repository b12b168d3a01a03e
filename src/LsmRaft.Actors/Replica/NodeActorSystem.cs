using Akka.Actor;
using Akka.Configuration;

namespace LsmRaft.Actors.Replica;

/// <summary>Creates the ActorSystem a node's replicas run in, until the node is hosted by Akka.Hosting with the hocon/ folder.</summary>
internal static class NodeActorSystem
{
    /// <summary>Akka's own log lines: warnings and errors only (debug with <paramref name="debug"/>); no dead-letter chatter at shutdown.</summary>
    private static string LoggingHocon(bool debug) => $$"""
        akka {
          loglevel = {{(debug ? "DEBUG" : "WARNING")}}
          stdout-loglevel = WARNING
          log-dead-letters-during-shutdown = off
        }
        """;

    /// <param name="name">The system's name: letters, digits, '-' and '_' only.</param>
    public static ActorSystem Create(string name, bool debugLog = false) =>
        ActorSystem.Create(name, ConfigurationFactory.ParseString(ReplicaDispatcher.Hocon + "\n" + LoggingHocon(debugLog)));
}
