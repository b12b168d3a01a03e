using System.Globalization;
using Akka.Actor;
using Akka.Cluster;
using LsmRaft.Protocol.Bootstrap;
using Microsoft.Extensions.Logging;

namespace LsmRaft.Host.Membership.Bootstrap;

/// <summary>
/// Finds or forms this node's Akka cluster (docs/architecture.md, "How the cluster forms"), in place of Akka's seed
/// nodes, through which only the first seed may form a cluster. Lives at <c>/user/lsmraft-bootstrap</c> on every node
/// and answers every probe for as long as the node runs (whether and where it is a member). Until this node is a member
/// it runs probe rounds: it probes every contact, collects the answers of this round until the next one, and applies
/// <see cref="BootstrapRule"/>. A member stops probing.
/// </summary>
internal sealed class BootstrapActor : ReceiveActor, IWithTimers
{
    /// <summary>The actor's name under /user, the same on every node (probes are addressed to it).</summary>
    public const string Name = "lsmraft-bootstrap";

    /// <summary>Rounds before a join through the same member is asked again (Akka's own join process retries in between).</summary>
    private const int JoinPatienceRounds = 10;

    private static readonly TimeSpan LogEvery = TimeSpan.FromSeconds(10);

    private readonly BootstrapPlan _plan;
    private readonly ILogger _logger;
    private readonly Random _random;
    private readonly Cluster _cluster;
    private readonly Dictionary<ulong, BootstrapAnswer> _answers = new();
    private readonly int _logEveryRounds;
    private ulong _round;
    private int _roundsAsLowest;
    private IReadOnlyList<ulong> _candidates = [];
    private int _roundsSinceJoin = JoinPatienceRounds;
    private ulong? _joinedThrough;
    private bool _formed;
    private bool _done;
    private int _roundsSinceWaitLog;

    /// <param name="random">Jitters the probe interval (randomness is injected).</param>
    public BootstrapActor(BootstrapPlan plan, ILogger logger, Random random)
    {
        _plan = plan;
        _logger = logger;
        _random = random;
        _cluster = Cluster.Get(Context.System);
        _logEveryRounds = Math.Max(1, (int)Math.Ceiling(LogEvery / plan.Settings.ProbeInterval));
        Receive<BootstrapProbe>(probe => Sender.Tell(AnswerTo(probe)));
        Receive<BootstrapAnswer>(answer =>
        {
            if (!_done && answer.Round == _round && answer.Node != _plan.Self)
                _answers[answer.Node] = answer;
        });
        Receive<Tick>(_ => Round());
    }

    public ITimerScheduler Timers { get; set; } = null!;

    protected override void PreStart() => Self.Tell(Tick.Instance);

    private BootstrapAnswer AnswerTo(BootstrapProbe probe)
    {
        var answer = new BootstrapAnswer { Node = _plan.Self, Round = probe.Round, Evaluated = _round > 1 || _done };
        var members = ActiveMembers();
        if (members.Any(m => m.UniqueAddress.Equals(_cluster.SelfUniqueAddress)))
        {
            answer.Member = true;
            answer.Members.AddRange(members.Select(m => m.Address.ToString()));
        }
        answer.Candidates.AddRange(_candidates);
        return answer;
    }

    /// <summary>The members that answer a join (Akka welcomes a joiner through any of them).</summary>
    private List<Member> ActiveMembers() =>
        _cluster.State.Members.Where(m => m.Status is MemberStatus.Joining or MemberStatus.WeaklyUp or MemberStatus.Up).ToList();

    private void Round()
    {
        if (_round > 0 || _plan.Contacts.Count == 0)
            Apply(BootstrapRule.Decide(new BootstrapView(_plan.Self, _plan.Peers, _plan.MayForm, _plan.Contacts.Count == 0,
                ActiveMembers().Any(m => m.UniqueAddress.Equals(_cluster.SelfUniqueAddress)), [.. _answers.Values], _roundsAsLowest, _plan.Settings.StableRounds)));
        if (_done)
            return;
        _round++;
        _answers.Clear();
        var self = _cluster.SelfAddress;
        var probe = new BootstrapProbe { Node = _plan.Self, Round = _round };
        foreach (var (host, port) in _plan.Contacts)
            Context.ActorSelection(new RootActorPath(new Address(self.Protocol, self.System, host, port)) / "user" / Name).Tell(probe, Self);
        // Up to a fifth either way, so that nodes started together do not probe in lock step.
        double jitter = 0.8 + 0.4 * _random.NextDouble();
        Timers.StartSingleTimer(nameof(Tick), Tick.Instance, _plan.Settings.ProbeInterval * jitter);
    }

    private void Apply(BootstrapStep step)
    {
        _roundsSinceWaitLog++;
        _roundsSinceJoin++;
        switch (step)
        {
            case BootstrapStep.Member:
                _done = true;
                _candidates = [];
                Timers.CancelAll();
                _logger.LogInformation("Node {Node} is a member of the Akka cluster ({Members})", _plan.Self,
                    string.Join(", ", ActiveMembers().Select(m => m.Address)));
                break;
            case BootstrapStep.Join join:
                _roundsAsLowest = 0;
                _candidates = [];
                var seeds = join.Seeds.Select(Address.Parse).Where(a => !a.Equals(_cluster.SelfAddress)).Distinct().ToList();
                if (seeds.Count == 0 || (_joinedThrough == join.Through && _roundsSinceJoin < JoinPatienceRounds))
                    break;
                _logger.LogInformation("Node {Node} joins the Akka cluster that node {Through} is a member of, through {Seeds}", _plan.Self, join.Through, string.Join(", ", seeds));
                // Never this node's own address among the seeds: as the first seed, Akka would let it form a cluster alone.
                _cluster.JoinSeedNodes(seeds);
                _joinedThrough = join.Through;
                _roundsSinceJoin = 0;
                break;
            case BootstrapStep.Form form:
                _candidates = [_plan.Self];
                if (_formed)
                    break;
                _formed = true;
                _logger.LogInformation("Node {Node} forms the Akka cluster: {Seen} of {Peers} PEERS answer ({Needed} needed) and no lower candidate is known", _plan.Self, form.Seen,
                    _plan.Peers.Count, form.Needed);
                _cluster.Join(_cluster.SelfAddress);
                break;
            case BootstrapStep.Wait wait:
                _roundsAsLowest = wait.Lowest ? _roundsAsLowest + 1 : 0;
                _candidates = [.. _answers.Values.Where(a => a.Candidates.Contains(a.Node)).Select(a => a.Node).Concat(wait.SeesMajority ? [_plan.Self] : []).Order()];
                if (_roundsSinceWaitLog >= _logEveryRounds)
                {
                    _roundsSinceWaitLog = 0;
                    // A warning (nodes log warnings and above by default): a node that waited ~10 s cannot serve, and says why.
                    _logger.LogWarning("Node {Node} is not in an Akka cluster yet: {Why} (round {Round}, probing {Contacts})", _plan.Self, wait.Why,
                        _round.ToString(CultureInfo.InvariantCulture), string.Join(", ", _plan.Contacts.Select(c => $"{c.Host}:{c.Port}")));
                }
                break;
        }
    }

    private sealed class Tick
    {
        public static readonly Tick Instance = new();
    }
}
