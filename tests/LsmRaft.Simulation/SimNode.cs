using LsmRaft.Actors.Replica;
using LsmRaft.Protocol.Cluster;
using LsmRaft.Raft;

namespace LsmRaft.Simulation;

/// <summary>
/// One replica in the simulator: its disk (durable across crashes), its state machine with the last flushed
/// copy (durable), and the volatile parts a crash loses: the Raft node, the working storage view, the
/// outstanding Ready and the client requests waiting on it.
/// </summary>
internal sealed class SimNode
{
    public SimNode(ulong id, ConfState initial)
    {
        Id = id;
        Disk = new SimDisk(initial);
        Storage = Disk.Load();
        Sm = new SimStateMachine(0, initial);
        FlushedConf = initial;
    }

    /// <summary>The node's id (where the replica runs; links, partitions and the checkers' logs are per node).</summary>
    public ulong Id { get; }

    /// <summary>
    /// The replica's Raft id: the node and its incarnation (<see cref="ReplicaId"/>), as the host gives one to every
    /// replica it creates again on a node. Messages route by <see cref="ReplicaId.NodeOf"/>; the replica's shell drops
    /// those addressed to another incarnation.
    /// </summary>
    public ulong RaftId => new ReplicaId(Id, IdIncarnation).Value;

    /// <summary>How many times the node was added back under a new Raft id (see <see cref="RaftId"/>).</summary>
    public int IdIncarnation { get; set; }

    public SimDisk Disk { get; }

    /// <summary>The storage the Raft node reads: durable state plus unsynced writes.</summary>
    public MemoryRaftStorage Storage { get; set; }

    /// <summary>The product's Ready shell around this node's Raft core; replaced on every start.</summary>
    public ReplicaShell Shell { get; set; } = null!;

    public RaftNode Raft => Shell.Node;

    public SimStateMachine Sm { get; set; }

    /// <summary>The state machine as last flushed (durable), at <see cref="FlushedApplied"/>.</summary>
    public byte[] FlushedSm { get; set; } = [];

    public ulong FlushedApplied { get; set; }

    public ConfState FlushedConf { get; set; }

    public bool Up { get; set; }

    /// <summary>Removed from the group and shut down (until added back, see <see cref="RejoinIndex"/>).</summary>
    public bool Removed { get; set; }

    /// <summary>Index of the AddLearner entry that last added this removed node back; removals before it concern an earlier stint.</summary>
    public ulong RejoinIndex { get; set; }

    /// <summary>
    /// How many times the node was added back after a removal under its old Raft id (only with
    /// <see cref="SimBug.KeepProgressOfReaddedMember"/>, which needs the same id; otherwise a new incarnation is used).
    /// Messages sent to or from an earlier stint are dropped, as distinct ids make them undeliverable.
    /// </summary>
    public int Stint { get; set; }

    /// <summary>Bumped on every crash, so events scheduled for an earlier life are ignored.</summary>
    public int Incarnation { get; set; }

    /// <summary>Simulated time between two ticks of this node's clock (its rate skew).</summary>
    public long TickPeriod { get; set; }

    /// <summary>Writes made and waiting for their fsync, oldest first (fsyncs complete in order).</summary>
    public Queue<ReadyWrite> AwaitingFsync { get; } = new();

    /// <summary>Simulated time at which the last scheduled fsync completes.</summary>
    public long LastFsyncDoneAt { get; set; }

    /// <summary>Highest commit index of this node already reported to the safety checker.</summary>
    public ulong RecordedCommit { get; set; }

    /// <summary>Highest term in which this node was seen leading.</summary>
    public ulong LeaderTermSeen { get; set; }

    /// <summary>Client writes proposed here, by log index.</summary>
    public Dictionary<ulong, ClientCall> PendingWrites { get; } = [];

    /// <summary>Client reads requested here and not yet confirmed, by operation id (the read context).</summary>
    public Dictionary<long, ClientCall> PendingReads { get; } = [];

    /// <summary>Confirmed reads waiting for the state machine to reach their read index.</summary>
    public List<(ulong Index, ClientCall Call)> ReadsWaitingApply { get; } = [];
}

/// <summary>A client request in flight at one node.</summary>
internal sealed class ClientCall(SimClient client, KvOp op, SimNode node, long deadline)
{
    public SimClient Client { get; } = client;

    public KvOp Op { get; } = op;

    public SimNode Node { get; } = node;

    public long Deadline { get; } = deadline;

    /// <summary>The proposed entry's term (writes).</summary>
    public ulong Term { get; set; }

    /// <summary>The proposed entry's index (writes).</summary>
    public ulong Index { get; set; }

    /// <summary>Set once the call has its outcome; late news about it is ignored.</summary>
    public bool Done { get; set; }
}

/// <summary>A client: one request at a time, a leader hint, and what it last learned about each key.</summary>
internal sealed class SimClient(int id)
{
    public int Id { get; } = id;

    public ClientCall? Current { get; set; }

    public ulong LeaderHint { get; set; }

    /// <summary>Per key: the value id and version last read or written (drives compare-and-set).</summary>
    public Dictionary<int, (long ValueId, ulong Version)> Known { get; } = [];
}
