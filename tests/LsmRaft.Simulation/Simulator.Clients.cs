using System.Buffers.Binary;
using System.Text;
using LsmRaft.Protocol.Cluster;
using LsmRaft.Raft;
using LsmRaft.Actors.Replica;

namespace LsmRaft.Simulation;

/// <summary>
/// Clients: each issues one request at a time (put, delete, compare-and-set, linearizable read) to the node it
/// believes leads, and records it in the history with exactly one outcome: committed with its result,
/// not-leader (definitely not applied; left out of the history), or timed out (unknown; the checker may
/// apply it or not).
/// </summary>
internal sealed partial class Simulator
{
    /// <summary>Keys live for one epoch of steps, which bounds every key's history for the checker.</summary>
    private const int KeyEpochSteps = 400;
    private const int KeysPerEpoch = 3;
    private const long ClientTimeout = 300_000;

    private readonly SimClient[] clients;
    private readonly List<KvOp> history = [];
    private int nextOpId;
    private long nextValueId;

    /// <summary>Logical time of the history: every call and every return gets its own instant.</summary>
    private long historyClock;

    private void IssueClientOp(SimClient client)
    {
        var node = client.LeaderHint != 0 && byId[client.LeaderHint] is { Up: true } hinted ? hinted : RandomUpNode();
        if (node is null)
        {
            return;
        }

        var key = ((step / KeyEpochSteps) * KeysPerEpoch) + rng.Next(KeysPerEpoch);
        var keyBytes = Encoding.Latin1.GetBytes($"k{key}");
        var id = ++nextOpId;
        var roll = rng.Next(100);
        KvOp op;
        byte[]? command = null;
        if (roll < 35)
        {
            op = new KvOp { Id = id, Kind = KvOpKind.Read, Key = key, Call = ++historyClock };
        }
        else if (roll < 65)
        {
            var value = ++nextValueId;
            op = new KvOp { Id = id, Kind = KvOpKind.Put, Key = key, Value = value, Call = ++historyClock };
            command = KvCommand.Put(keyBytes, ValueBytes(value)).Encode();
        }
        else if (roll < 75)
        {
            op = new KvOp { Id = id, Kind = KvOpKind.Delete, Key = key, Call = ++historyClock };
            command = KvCommand.Delete(keyBytes).Encode();
        }
        else
        {
            // Compare against what this client last saw (possibly stale), or against "absent".
            var (expectedValue, expectedVersion) = rng.Next(4) > 0 && client.Known.TryGetValue(key, out var known) ? known : (0L, 0UL);
            var deletes = rng.Next(5) == 0;
            var value = deletes ? 0 : ++nextValueId;
            op = new KvOp { Id = id, Kind = KvOpKind.CompareAndSet, Key = key, Expected = expectedValue, Value = value, Call = ++historyClock };
            command = KvCommand.CompareAndSet(keyBytes, expectedVersion, deletes ? null : ValueBytes(value)).Encode();
        }

        var call = new ClientCall(client, op, node, now + ClientTimeout);
        var result = command is null ? node.Raft.ReadIndex(ValueBytes(id)) : node.Raft.Propose(command);
        trace.Record(now, 20, node.Id, (ulong)op.Kind, (ulong)key, result.IsOk ? result.Index : 0);
        if (trace.Verbose)
        {
            trace.Line(now, $"client {client.Id} -> n{node.Id}: {op} => {result}");
        }

        if (!result.IsOk)
        {
            stats.NotLeader++;
            client.LeaderHint = ReplicaId.NodeOf(result.LeaderHint); // a Raft id: the hint names its node, as the host's router does
            After(node);
            return;
        }

        client.Current = call;
        client.LeaderHint = node.Id;
        if (command is null)
        {
            node.PendingReads[id] = call;
        }
        else
        {
            call.Index = result.Index;
            call.Term = result.Term;
            if (node.PendingWrites.Remove(result.Index, out var superseded))
            {
                // An earlier proposal at this index was truncated from this node's log without being applied here.
                TimeOut(superseded);
            }

            node.PendingWrites[result.Index] = call;
        }

        After(node);
    }

    private void CompleteWrite(ClientCall call, Entry applied, ApplyResult result)
    {
        if (call.Done)
        {
            return;
        }

        if (applied.Term != call.Term)
        {
            // Another entry was committed at this index: ours was overwritten and can never commit.
            Finish(call, known: false, definitelyNotApplied: true);
            return;
        }

        var op = call.Op;
        var known = call.Client.Known;
        switch (result)
        {
            case ApplyResult.Applied applyResult:
                op.Flag = op.Kind == KvOpKind.CompareAndSet || applyResult.Existed;
                known[op.Key] = (op.Kind == KvOpKind.Delete ? 0 : op.Value, applyResult.Version);
                break;
            case ApplyResult.Conflict:
                op.Flag = false;
                break;
            default:
                throw new InvalidOperationException($"Client command at {applied.Index} was not applied as a command: {result}.");
        }

        stats.Committed++;
        Finish(call, known: true, definitelyNotApplied: false);
    }

    private void OnReadState(SimNode node, ReadState rs)
    {
        var id = BinaryPrimitives.ReadInt64LittleEndian(rs.RequestContext);
        if (node.PendingReads.Remove(id, out var call) && !call.Done)
        {
            node.ReadsWaitingApply.Add((rs.Index, call));
        }
    }

    /// <summary>Serve confirmed reads whose read index the state machine has reached.</summary>
    private void ServeWaitingReads(SimNode node)
    {
        var waiting = node.ReadsWaitingApply;
        for (var i = waiting.Count - 1; i >= 0; i--)
        {
            var (index, call) = waiting[i];
            if (call.Done)
            {
                waiting.RemoveAt(i);
                continue;
            }

            if (node.Sm.Applied < index)
            {
                continue;
            }

            waiting.RemoveAt(i);
            var op = call.Op;
            var current = node.Sm.Get(Encoding.Latin1.GetBytes($"k{op.Key}"));
            op.ReadValue = current is { } v ? BinaryPrimitives.ReadInt64LittleEndian(v.Value) : 0;
            call.Client.Known[op.Key] = current is { } cv ? (op.ReadValue, cv.Version) : (0, 0);
            stats.Reads++;
            Finish(call, known: true, definitelyNotApplied: false);
        }
    }

    private void TimeOut(ClientCall call)
    {
        if (!call.Done)
        {
            stats.TimedOut++;
            Finish(call, known: false, definitelyNotApplied: false);
        }
    }

    private void Finish(ClientCall call, bool known, bool definitelyNotApplied)
    {
        call.Done = true;
        var op = call.Op;
        if (known)
        {
            op.Known = true;
            op.Return = ++historyClock;
        }

        if (!definitelyNotApplied)
        {
            history.Add(op);
        }
        else
        {
            stats.NotLeader++;
        }

        trace.Record(now, 21, (ulong)op.Id, known ? 1UL : 0, (ulong)op.ReadValue, op.Flag ? 1UL : 0);
        if (trace.Verbose)
        {
            trace.Line(now, $"client {call.Client.Id} <- n{call.Node.Id}: {op}" + (definitelyNotApplied ? " (overwritten: not applied)" : string.Empty));
        }

        if (call.Client.Current == call)
        {
            call.Client.Current = null;
        }
    }

    /// <summary>Idle clients may issue a request; requests past their deadline time out.</summary>
    private void ExpireClientCalls()
    {
        foreach (var client in clients)
        {
            if (client.Current is { } call && now >= call.Deadline)
            {
                client.LeaderHint = 0;
                TimeOut(call);
            }
        }
    }

    private SimNode? RandomUpNode()
    {
        var up = 0;
        foreach (var n in nodes)
        {
            up += n.Up ? 1 : 0;
        }

        if (up == 0)
        {
            return null;
        }

        var pick = rng.Next(up);
        foreach (var n in nodes)
        {
            if (n.Up && pick-- == 0)
            {
                return n;
            }
        }

        return null;
    }

    private static byte[] ValueBytes(long value)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, value);
        return bytes;
    }
}
