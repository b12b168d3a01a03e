using Google.Protobuf;
using LsmRaft.Raft;
using LsmRaft.Actors.Replica;
using LsmRaft.Protocol.Peer;
using ReadConsistency = LsmRaft.Protocol.Peer.ReadConsistency;

namespace LsmRaft.Host.Node;

/// <summary>
/// Runs one client operation (in its wire form, <see cref="ForwardRequest"/>) against this node's replica of
/// the shard: writes are proposed, reads go through ReadIndex, a lease or the local state. Used both for
/// requests that arrive at this node's HTTP API and for requests forwarded by other nodes — one path.
/// Never forwards further: a replica that does not lead answers NOT_LEADER with its leader hint.
/// </summary>
internal sealed class LocalExecutor(ReplicaRegistry replicas, TimeSpan timeout)
{
    public async Task<ForwardResponse> ExecuteAsync(ForwardRequest request, CancellationToken cancellationToken)
    {
        var response = new ForwardResponse { RequestId = request.RequestId };
        if (!replicas.TryGet(request.ShardId, out var replica))
        {
            response.Error = Error(ErrorCode.NotLeader, $"node holds no replica of shard {request.ShardId}");
            return response;
        }
        if (replica.Monitor.Failure is { } failure)
        {
            response.Error = Error(ErrorCode.Unavailable, $"the replica of shard {request.ShardId} on this node stopped after repeated failures: {failure.Message}");
            return response;
        }
        try
        {
            switch (request.OpCase)
            {
                case ForwardRequest.OpOneofCase.Get:
                    return Read(response, await ReadAsync(replica, new ReadQuery.Point(request.Get.Key.ToByteArray()), request.Get.Consistency, cancellationToken).ConfigureAwait(false));
                case ForwardRequest.OpOneofCase.Scan:
                    {
                        var scan = request.Scan;
                        var query = new ReadQuery.Range(scan.Start.IsEmpty ? null : scan.Start.ToByteArray(), scan.End.IsEmpty ? null : scan.End.ToByteArray(), (int)Math.Min(scan.Limit, int.MaxValue), request.Epoch);
                        return Read(response, await ReadAsync(replica, query, scan.Consistency, cancellationToken).ConfigureAwait(false));
                    }
                case ForwardRequest.OpOneofCase.Put:
                    return Write(response, await ProposeAsync(replica, KvCommand.Put(request.Put.Key.ToByteArray(), request.Put.Value.ToByteArray()), cancellationToken).ConfigureAwait(false));
                case ForwardRequest.OpOneofCase.Delete:
                    return Write(response, await ProposeAsync(replica, KvCommand.Delete(request.Delete.Key.ToByteArray()), cancellationToken).ConfigureAwait(false), isDelete: true);
                case ForwardRequest.OpOneofCase.Cas:
                    {
                        var cas = request.Cas;
                        var command = KvCommand.CompareAndSet(cas.Key.ToByteArray(), cas.ExpectedVersion, cas.HasValue ? cas.Value.ToByteArray() : null);
                        return Write(response, await ProposeAsync(replica, command, cancellationToken).ConfigureAwait(false));
                    }
                case ForwardRequest.OpOneofCase.Batch:
                    {
                        var ops = request.Batch.Items.Select(i => new KvOperation(i.Key.ToByteArray(), i.HasValue ? i.Value.ToByteArray() : null)).ToArray();
                        return Write(response, await ProposeAsync(replica, KvCommand.Batch(ops), cancellationToken).ConfigureAwait(false));
                    }
                case ForwardRequest.OpOneofCase.Split:
                    {
                        var op = request.Split;
                        var split = new SplitRequest(op.ChildId, op.SplitAt, op.ExpectedStart, op.ExpectedEnd, op.ExpectedEpoch);
                        return Write(response, await ProposeAsync(replica, KvCommand.Split(split), cancellationToken).ConfigureAwait(false));
                    }
                case ForwardRequest.OpOneofCase.Membership:
                    {
                        ConfChange? change = request.Membership.Change switch
                        {
                            MembershipChange.AddLearner => ConfChange.AddLearner(request.Membership.NodeId),
                            MembershipChange.Promote => ConfChange.AddVoter(request.Membership.NodeId),
                            MembershipChange.Remove => ConfChange.Remove(request.Membership.NodeId),
                            _ => null,
                        };
                        if (change is null)
                        {
                            response.Error = Error(ErrorCode.BadRequest, "membership change of unknown kind");
                            return response;
                        }
                        var outcome = await replica.Ref.RequestAsync<ProposeOutcome>(r => new ReplicaMessage.ChangeMembership(change.Value, r), timeout, cancellationToken).ConfigureAwait(false);
                        switch (outcome)
                        {
                            case ProposeOutcome.Committed committed:
                                response.Version = committed.Index;
                                break;
                            case ProposeOutcome.NotLeader notLeader:
                                response.Error = Error(ErrorCode.NotLeader, "not the leader", notLeader.LeaderHint);
                                break;
                            case ProposeOutcome.Rejected rejected:
                                // A change refused only for now (another one, or the new leader's first entry, still
                                // uncommitted) is retried by the router until its deadline; an invalid one is not.
                                response.Error = Error(rejected.Retryable ? ErrorCode.Unavailable : ErrorCode.BadRequest, rejected.Reason);
                                break;
                        }
                        return response;
                    }
                case ForwardRequest.OpOneofCase.Progress:
                    {
                        var progress = await replica.Ref.RequestAsync<GroupProgress>(r => new ReplicaMessage.GetProgress(r), timeout, cancellationToken).ConfigureAwait(false);
                        if (request.Progress.Local)
                        {
                            response.Progress = new ProgressResult { Replica = progress.NodeId, Commit = progress.Commit, Leader = progress.Leader };
                            return response;
                        }
                        if (progress.Role != RaftRole.Leader)
                        {
                            response.Error = Error(ErrorCode.NotLeader, "not the leader", progress.Leader);
                            return response;
                        }
                        ulong node = request.Progress.NodeId;
                        var result = new ProgressResult
                        {
                            CaughtUp = progress.IsCaughtUp(node, request.Progress.MaxLag),
                            Match = progress.Peers.TryGetValue(node, out var peer) ? peer.Match : 0,
                            Commit = progress.Commit,
                            ConfChangePending = progress.ConfChangePending,
                            Leader = progress.NodeId,
                        };
                        result.Voters.AddRange(progress.Members.Voters);
                        result.Learners.AddRange(progress.Members.Learners);
                        response.Progress = result;
                        return response;
                    }
                case ForwardRequest.OpOneofCase.TransferLeader:
                    {
                        // Operators name a node; the voter of the group on that node is whichever incarnation is a member.
                        ulong to = request.TransferLeader.ToNode;
                        if (LsmRaft.Protocol.Cluster.ReplicaId.IncarnationOf(to) == 0 && replica.Status?.Members.Voters.FirstOrDefault(v => LsmRaft.Protocol.Cluster.ReplicaId.NodeOf(v) == to) is { } voter and not 0)
                            to = voter;
                        var result = await replica.Ref.RequestAsync<LsmRaft.Raft.RaftResult>(r => new ReplicaMessage.TransferLeadership(to, r), timeout, cancellationToken).ConfigureAwait(false);
                        if (result.IsOk)
                            response.Version = 0;
                        else if (result.Code == LsmRaft.Raft.RaftResultCode.NotLeader)
                            response.Error = Error(ErrorCode.NotLeader, "not the leader", result.LeaderHint);
                        else
                            response.Error = Error(ErrorCode.BadRequest, $"leadership cannot move to node {to}: {result}");
                        return response;
                    }
                default:
                    response.Error = Error(ErrorCode.BadRequest, "request carries no operation");
                    return response;
            }
        }
        catch (ReplicaOverloadedException)
        {
            response.Error = Error(ErrorCode.Overloaded, $"the replica of shard {request.ShardId} on this node has {replica.Monitor.MaxInFlightRequests} requests in flight; retry with backoff");
            return response;
        }
        catch (InvalidOperationException e)
        {
            // The replica's actor has stopped: it is being retired, or it failed for good (readiness says which).
            response.Error = Error(ErrorCode.Unavailable, $"the replica of shard {request.ShardId} on this node is not running ({e.Message})");
            return response;
        }
        catch (TimeoutException)
        {
            response.Error = Error(ErrorCode.Unavailable, $"shard {request.ShardId} did not answer within {timeout.TotalSeconds:0.#} s (no quorum?)");
            return response;
        }
    }

    private Task<ReadOutcome> ReadAsync(ReplicaHandle replica, ReadQuery query, ReadConsistency consistency, CancellationToken cancellationToken)
    {
        var mode = consistency switch
        {
            ReadConsistency.Lease => ReadMode.Lease,
            ReadConsistency.Stale => ReadMode.Stale,
            _ => ReadMode.Linearizable,
        };
        return AdmittedAsync<ReadOutcome>(replica, r => new ReplicaMessage.Read(query, mode, r), cancellationToken);
    }

    private Task<ProposeOutcome> ProposeAsync(ReplicaHandle replica, KvCommand command, CancellationToken cancellationToken) =>
        AdmittedAsync<ProposeOutcome>(replica, r => new ReplicaMessage.Propose(command, r), cancellationToken);

    /// <summary>A client request, within the replica's in-flight bound (its mailbox is unbounded: the bound keeps it short).</summary>
    private async Task<T> AdmittedAsync<T>(ReplicaHandle replica, Func<ReplyTo<T>, object> build, CancellationToken cancellationToken)
    {
        if (!replica.Monitor.Requests.TryEnter())
            throw new ReplicaOverloadedException();
        try
        {
            return await replica.Ref.RequestAsync(build, timeout, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            replica.Monitor.Requests.Exit();
        }
    }

    /// <summary>The replica already has <see cref="ReplicaMonitor.MaxInFlightRequests"/> requests in flight.</summary>
    private sealed class ReplicaOverloadedException : Exception;

    private static ForwardResponse Read(ForwardResponse response, ReadOutcome outcome)
    {
        switch (outcome)
        {
            case ReadOutcome.Value { Data: null }:
                response.Error = Error(ErrorCode.KeyNotFound, "key not found");
                break;
            case ReadOutcome.Value value:
                response.Entries = new KvEntries();
                response.Entries.Entries.Add(new KvEntry { Value = ByteString.CopyFrom(value.Data), Version = value.Version });
                break;
            case ReadOutcome.Entries entries:
                response.Entries = new KvEntries();
                foreach (var (key, value, version) in entries.Items)
                    response.Entries.Entries.Add(new KvEntry { Key = ByteString.CopyFrom(key), Value = ByteString.CopyFrom(value), Version = version });
                break;
            case ReadOutcome.NotLeader notLeader:
                response.Error = Error(ErrorCode.NotLeader, "not the leader", notLeader.LeaderHint);
                break;
            case ReadOutcome.WrongShard wrong:
                response.Error = StaleEpoch($"the shard now owns {wrong.Current}", wrong.Current);
                break;
        }
        return response;
    }

    private static ForwardResponse Write(ForwardResponse response, ProposeOutcome outcome, bool isDelete = false)
    {
        switch (outcome)
        {
            case ProposeOutcome.Committed { Result: ApplyResult.Applied applied }:
                if (isDelete && !applied.Existed)
                    response.Error = Error(ErrorCode.KeyNotFound, "key not found");
                else
                    response.Version = applied.Version;
                break;
            case ProposeOutcome.Committed { Result: ApplyResult.Conflict conflict }:
                response.Error = Error(ErrorCode.VersionConflict, $"current version is {conflict.CurrentVersion}");
                response.Error.CurrentVersion = conflict.CurrentVersion;
                break;
            case ProposeOutcome.Committed { Result: ApplyResult.NotACommand notACommand }:
                response.Error = Error(ErrorCode.BadRequest, notACommand.Reason);
                break;
            case ProposeOutcome.Committed { Result: ApplyResult.WrongShard wrong }:
                response.Error = StaleEpoch($"the shard now owns {wrong.Current}", wrong.Current);
                break;
            case ProposeOutcome.Committed { Result: ApplyResult.Split } committed:
                response.Version = committed.Index;
                break;
            case ProposeOutcome.Committed { Result: ApplyResult.SplitRefused refused }:
                response.Error = StaleEpoch(refused.Reason, refused.Current);
                break;
            case ProposeOutcome.NotLeader notLeader:
                response.Error = Error(ErrorCode.NotLeader, "not the leader", notLeader.LeaderHint);
                break;
            case ProposeOutcome.Rejected rejected:
                response.Error = Error(ErrorCode.Unavailable, rejected.Reason);
                break;
        }
        return response;
    }

    private static KvError StaleEpoch(string message, ShardDescriptor current) =>
        new() { Code = ErrorCode.StaleEpoch, Message = message, CurrentEpoch = current.Epoch };

    /// <param name="leaderHint">The leader's Raft id as the replica knows it; the hint names its node (where to forward).</param>
    private static KvError Error(ErrorCode code, string message, ulong leaderHint = 0) =>
        new() { Code = code, Message = message, LeaderHintNode = LsmRaft.Protocol.Cluster.ReplicaId.NodeOf(leaderHint) };
}
