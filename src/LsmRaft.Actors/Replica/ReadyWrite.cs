using LsmRaft.Raft;

namespace LsmRaft.Actors.Replica;

/// <summary>A Ready whose write was started by a <see cref="ReplicaShell"/>; completed in the order taken once <see cref="IsDone"/>.</summary>
internal sealed class ReadyWrite(Ready ready, bool sent)
{
    private volatile bool _done;

    public Ready Ready { get; } = ready;

    /// <summary>The messages already left (a leader's early send).</summary>
    public bool Sent { get; } = sent;

    /// <summary>Why the write failed; read only after <see cref="IsDone"/> (the volatile flag publishes it).</summary>
    public Exception? Error { get; private set; }

    public bool IsDone => _done;

    /// <summary>The write is durable (<paramref name="error"/> null) or failed. Called once, from any thread.</summary>
    public void MarkDone(Exception? error)
    {
        Error = error;
        _done = true;
    }
}
