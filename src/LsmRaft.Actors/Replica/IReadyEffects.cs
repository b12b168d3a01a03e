using LsmRaft.Raft;

namespace LsmRaft.Actors.Replica;

/// <summary>
/// What a <see cref="ReplicaShell"/> asks of whoever drives it: the replica actor (node log, transport, storage
/// actor) or the simulator (simulated disk, network and state machine). Calls come on the driver's thread, one at
/// a time; none may call back into the shell.
/// </summary>
internal interface IReadyEffects
{
    /// <summary>A Ready was just taken from the core, before any of its work starts (observers; most drivers do nothing).</summary>
    void Taken(Ready ready);

    /// <summary>
    /// Start making the Ready's state durable: install its snapshot (if any, before anything else), then write its
    /// entries and hard state. Return true when that is done already (or the Ready needs no write); otherwise call
    /// <see cref="ReadyWrite.MarkDone"/> when it is, from any thread, and then <see cref="ReplicaShell.CompleteDurable"/>
    /// on the driver's thread.
    /// </summary>
    bool BeginWrite(ReadyWrite write);

    /// <summary>Send the Ready's messages (reporting unreachable peers and starting snapshot transfers as the transport needs).</summary>
    void Send(IReadOnlyList<Message> messages);

    /// <summary>Apply committed entries, in index order, to the state machine.</summary>
    void Apply(IReadOnlyList<Entry> committed);

    /// <summary>The Ready is durable, sent and applied; its read states can be served. The core is advanced right after.</summary>
    void Completed(Ready ready);
}
