using LsmRaft.Raft;

namespace LsmRaft.Actors.Replica;

/// <summary>
/// The Ready-handling rules of one replica, in one kernel-free place that the replica actor and the simulator
/// both drive: take Readies from the core, send their messages (early where allowed), start their writes, apply
/// committed entries, and complete them oldest first (send what waited, serve reads, advance the core).
/// Single-threaded: every method runs on the driver's thread, except <see cref="ReadyWrite.MarkDone"/>.
/// </summary>
/// <remarks>
/// Invariants:
/// <list type="bullet">
/// <item>A Ready's messages leave only after its own write, and so every earlier one, is durable (writes complete
/// in order); except a leader's when <see cref="RaftConfig.AsyncLeaderPersist"/> is on and the term and vote it has
/// handed out (<c>issued</c>) are already durable: the core counts a leader's own entries only once advanced, so its
/// appends promise nothing about its disk. Vote and append acknowledgements never precede the state they vouch for.
/// A Ready with a snapshot never sends early.</item>
/// <item>Pipelined (<see cref="RaftConfig.PipelinedReadies"/>): up to <c>maxInFlight</c> Readies have writes in flight;
/// the committed entries a pipelined core hands out are durable locally already, so they are applied when taken, in
/// index order. Otherwise one Ready at a time, and its committed entries are applied once its write is durable.</item>
/// <item>A Ready with a snapshot is taken only when nothing else is in flight, and nothing is taken after it until it
/// completes (the core's rule); its write installs the snapshot first.</item>
/// <item>Readies complete, and the core advances, in the order they were taken.</item>
/// </list>
/// </remarks>
internal sealed class ReplicaShell
{
    private readonly RaftNode _node;
    private readonly IReadyEffects _effects;
    private readonly string _name;
    private readonly int _maxInFlight;
    private readonly bool _pipelined;
    private readonly bool _asyncLeaderPersist;
    private readonly Queue<ReadyWrite> _inFlight = new();

    /// <summary>Hard state of the newest completed Ready (or the storage's at start): durable.</summary>
    private HardState _durable;

    /// <summary>Hard state of the newest Ready taken, durable or not. Invariant: equal to <see cref="_durable"/> when nothing is in flight.</summary>
    private HardState _issued;

    private bool _stopped;

    /// <param name="name">Names the replica in errors ("group 7").</param>
    /// <param name="config">The core's configuration; <see cref="RaftConfig.PipelinedReadies"/> and <see cref="RaftConfig.AsyncLeaderPersist"/> shape the rules.</param>
    /// <param name="storage">The core's durable log.</param>
    /// <param name="effects">Who persists, sends and applies.</param>
    /// <param name="maxInFlight">Pipelined: most Readies whose writes may be in flight at once (at least 1).</param>
    public ReplicaShell(string name, RaftConfig config, IRaftStorage storage, IReadyEffects effects, int maxInFlight)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxInFlight, 1);
        _name = name;
        _effects = effects;
        _maxInFlight = maxInFlight;
        _pipelined = config.PipelinedReadies;
        _asyncLeaderPersist = config.AsyncLeaderPersist;
        _durable = _issued = storage.InitialState().HardState;
        _node = new RaftNode(config, storage);
    }

    /// <summary>The core this shell drives. Inputs (steps, ticks, requests) go to it directly; call <see cref="Drain"/> after them.</summary>
    public RaftNode Node => _node;

    /// <summary>
    /// Steps a message that arrived from another replica into the core, unless it is addressed to another Raft id than
    /// this replica's: a message for an earlier or later incarnation of the group's replica on this node (docs/raft.md,
    /// "Replica identity") must not reach this one, or a late acknowledgement meant for a retired replica would count
    /// for it. False when dropped. (Messages from retired replicas need no check here: the core ignores answers from
    /// ids outside its configuration.)
    /// </summary>
    public bool Deliver(Message message)
    {
        if (message.To != _node.Id)
            return false;
        _node.Step(message);
        return true;
    }

    /// <summary>Readies taken whose completion is pending.</summary>
    public int InFlight => _inFlight.Count;

    /// <summary>
    /// Fault injection for the simulator's self-test only: every Ready's messages leave before its write is durable,
    /// which breaks Raft (a vote or an acknowledgement may be forgotten by a crash).
    /// </summary>
    internal bool UnsafeSendBeforeDurable { get; init; }

    /// <summary>Stop at once: no more effects (the replica crashed or was shut down mid-Ready). Final.</summary>
    public void Stop() => _stopped = true;

    /// <summary>Take and start Readies while the core has one and the in-flight limit allows, completing those already durable.</summary>
    public void Drain()
    {
        while (!_stopped && _inFlight.Count < _maxInFlight && _node.HasReady())
        {
            var ready = _node.GetReady();
            if (ready.HardState is { } issued)
                _issued = issued;
            _effects.Taken(ready);
            bool early = UnsafeSendBeforeDurable || MaySendEarly(ready);
            if (early)
                _effects.Send(ready.Messages);
            if (_pipelined && ready.CommittedEntries.Count > 0 && !_stopped)
                _effects.Apply(ready.CommittedEntries);
            if (_stopped)
                return;
            var write = new ReadyWrite(ready, early);
            _inFlight.Enqueue(write);
            if (_effects.BeginWrite(write))
                write.MarkDone(null);
            CompleteDurable();
        }
    }

    /// <summary>
    /// Complete, oldest first, the Readies whose writes are done: send what waited, apply (not pipelined), serve reads,
    /// advance the core. Throws <see cref="IOException"/> when a write failed: the replica must restart from its log.
    /// </summary>
    public void CompleteDurable()
    {
        while (!_stopped && _inFlight.TryPeek(out var write) && write.IsDone)
        {
            _inFlight.Dequeue();
            if (write.Error is { } error)
            {
                _stopped = true;
                throw new IOException($"{_name}: writing the Raft log failed.", error);
            }

            var ready = write.Ready;
            if (ready.HardState is { } persisted)
                _durable = persisted;
            if (!write.Sent)
                _effects.Send(ready.Messages);
            if (!_pipelined && ready.CommittedEntries.Count > 0 && !_stopped)
                _effects.Apply(ready.CommittedEntries);
            if (_stopped)
                return;
            _effects.Completed(ready);
            _node.Advance(ready);
        }
    }

    /// <summary>A leader may send before its write is durable when the term and vote it handed out already are (and no snapshot is installed).</summary>
    private bool MaySendEarly(Ready ready) =>
        _asyncLeaderPersist && ready.Snapshot is null && _node.Role == RaftRole.Leader
        && _issued.Term == _durable.Term && _issued.Vote == _durable.Vote;
}
