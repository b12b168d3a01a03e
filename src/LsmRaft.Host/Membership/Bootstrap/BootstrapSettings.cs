
namespace LsmRaft.Host.Membership.Bootstrap;

/// <summary>The bootstrap's timing, from <c>lsmraft.bootstrap</c> (hocon/cluster.conf).</summary>
/// <param name="ProbeInterval">Time between probe rounds (each round waits this long for answers); jittered by up to a fifth.</param>
/// <param name="StableRounds">Rounds in a row a node must be the lowest candidate of a majority before it forms the cluster.</param>
internal sealed record BootstrapSettings(TimeSpan ProbeInterval, int StableRounds)
{
    public const string ConfigPath = "lsmraft.bootstrap";

    /// <summary>Reads <c>lsmraft.bootstrap</c>; throws naming the setting when a value is out of range.</summary>
    public static BootstrapSettings From(Akka.Configuration.Config config)
    {
        var interval = config.GetTimeSpan($"{ConfigPath}.probe-interval", TimeSpan.FromSeconds(1));
        int rounds = config.GetInt($"{ConfigPath}.stable-rounds", 3);
        if (interval <= TimeSpan.Zero || interval > TimeSpan.FromMinutes(1))
            throw new ArgumentException($"{ConfigPath}.probe-interval must be between 1ms and 1m, not {interval}.");
        if (rounds is < 1 or > 100)
            throw new ArgumentException($"{ConfigPath}.stable-rounds must be between 1 and 100, not {rounds}.");
        return new BootstrapSettings(interval, rounds);
    }
}
