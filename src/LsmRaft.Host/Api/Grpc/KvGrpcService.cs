using Google.Protobuf;
using Grpc.Core;
using LsmRaft.Protocol.Api.V1;
using V1 = LsmRaft.Protocol.Api.V1;

namespace LsmRaft.Host.Api.Grpc;

/// <summary>
/// The <c>lsmraft.v1.Kv</c> gRPC service: the operations of the REST API under /v1 over the same
/// <see cref="IKvService"/>, with the same rules (<see cref="KvRules"/>) and errors (<see cref="GrpcErrorInterceptor"/>).
/// </summary>
internal sealed class KvGrpcService(IKvService service, ApiOptions options) : Kv.KvBase
{
    /// <summary>
    /// A scan page is cut into messages of about this many bytes of keys and values (a message holds at least one
    /// item), so no message nears gRPC's default 4 MB receive limit whatever the page size.
    /// </summary>
    internal const int MessageBudgetBytes = 2 * 1024 * 1024;

    public override async Task<GetResponse> Get(GetRequest request, ServerCallContext context)
    {
        var key = KvRules.Key(request.Key.ToByteArray(), options);
        var entry = await service.GetAsync(key, Consistency(request.Consistency), context.CancellationToken).ConfigureAwait(false)
            ?? throw new ResourceNotFoundException("The key does not exist.");
        return new GetResponse { Item = Item(entry) };
    }

    public override async Task<PutResponse> Put(PutRequest request, ServerCallContext context)
    {
        var key = KvRules.Key(request.Key.ToByteArray(), options);
        KvRules.CheckValueSize(request.Value.Length, options);
        ulong version = await service.PutAsync(key, request.Value.ToByteArray(), context.CancellationToken).ConfigureAwait(false);
        return new PutResponse { Version = version };
    }

    public override async Task<DeleteResponse> Delete(DeleteRequest request, ServerCallContext context)
    {
        var key = KvRules.Key(request.Key.ToByteArray(), options);
        if (!await service.DeleteAsync(key, context.CancellationToken).ConfigureAwait(false))
            throw new ResourceNotFoundException("The key does not exist.");
        return new DeleteResponse();
    }

    public override async Task<CompareAndSetResponse> CompareAndSet(CompareAndSetRequest request, ServerCallContext context)
    {
        var key = KvRules.Key(request.Key.ToByteArray(), options);
        byte[]? value = null;
        if (request.HasValue)
        {
            KvRules.CheckValueSize(request.Value.Length, options);
            value = request.Value.ToByteArray();
        }
        ulong version = await service.CompareAndSetAsync(key, request.ExpectedVersion, value, context.CancellationToken).ConfigureAwait(false);
        return new CompareAndSetResponse { Version = version };
    }

    public override async Task<BatchResponse> Batch(BatchRequest request, ServerCallContext context)
    {
        KvRules.CheckBatchSize(request.Operations.Count, options, $"1 to {options.MaxBatchOperations} operations, each a put or a delete");
        var operations = new List<BatchOperation>(request.Operations.Count);
        for (int i = 0; i < request.Operations.Count; i++)
        {
            var op = request.Operations[i];
            switch (op.OpCase)
            {
                case V1.BatchOperation.OpOneofCase.Put:
                    KvRules.CheckValueSize(op.Put.Value.Length, options);
                    operations.Add(new BatchOperation(KvRules.Key(op.Put.Key.ToByteArray(), options, $"key of operation {i}"), op.Put.Value.ToByteArray()));
                    break;
                case V1.BatchOperation.OpOneofCase.Delete:
                    operations.Add(new BatchOperation(KvRules.Key(op.Delete.Key.ToByteArray(), options, $"key of operation {i}"), null));
                    break;
                default:
                    throw new BadRequestException($"Operation {i} sets neither 'put' nor 'delete'.");
            }
        }
        await service.BatchAsync(operations, context.CancellationToken).ConfigureAwait(false);
        return new BatchResponse { Applied = (uint)operations.Count };
    }

    /// <summary>
    /// Reads the range page by page from the service (as REST's paging does, each page a separate read at the
    /// requested consistency) and streams each page, cut into messages of at most about
    /// <see cref="MessageBudgetBytes"/>; the stream's flow control holds the reads back while the client is slow.
    /// </summary>
    public override async Task Scan(V1.ScanRequest request, IServerStreamWriter<V1.ScanPage> responseStream, ServerCallContext context)
    {
        var start = OptionalKey(request.Start, "start");
        var end = OptionalKey(request.End, "end");
        var prefix = OptionalKey(request.Prefix, "prefix");
        var resumeAt = OptionalKey(request.Continuation, "continuation");
        int pageSize = request.PageSize == 0 ? options.DefaultScanLimit : KvRules.PageSize(request.PageSize, options, "Field 'page_size'");
        var consistency = Consistency(request.Consistency);
        long remaining = request.Limit == 0 ? long.MaxValue : request.Limit;
        var token = context.CancellationToken;
        while (true)
        {
            var read = KvRules.Scan(start, end, prefix, resumeAt, (int)Math.Min(pageSize, remaining), consistency);
            var page = read is null ? new ScanPage([], null) : await service.ScanAsync(read, token).ConfigureAwait(false);
            var message = new V1.ScanPage();
            long bytes = 0;
            for (int i = 0; i < page.Entries.Count; i++)
            {
                var entry = page.Entries[i];
                long size = entry.Key.Length + entry.Value.Length;
                if (message.Items.Count > 0 && bytes + size > MessageBudgetBytes)
                {
                    // Resumes right after the last key sent: that key followed by a zero byte.
                    var last = page.Entries[i - 1].Key;
                    message.Continuation = UnsafeByteOperations.UnsafeWrap((byte[])[.. last, 0]);
                    await responseStream.WriteAsync(message, token).ConfigureAwait(false);
                    message = new V1.ScanPage();
                    bytes = 0;
                }
                message.Items.Add(Item(entry));
                bytes += size;
            }
            remaining -= page.Entries.Count;
            resumeAt = page.NextStart;
            if (resumeAt is not null)
                message.Continuation = UnsafeByteOperations.UnsafeWrap(resumeAt);
            await responseStream.WriteAsync(message, token).ConfigureAwait(false);
            if (resumeAt is null || remaining <= 0)
                return;
        }
    }

    private byte[]? OptionalKey(ByteString bytes, string field) =>
        bytes.IsEmpty ? null : KvRules.Key(bytes.ToByteArray(), options, $"field '{field}'");

    private static ReadConsistency Consistency(V1.Consistency consistency) => consistency switch
    {
        V1.Consistency.Unspecified or V1.Consistency.Linearizable => ReadConsistency.Linearizable,
        V1.Consistency.Lease => ReadConsistency.Lease,
        V1.Consistency.Stale => ReadConsistency.Stale,
        _ => throw new BadRequestException(
            $"Field 'consistency' is {(int)consistency}: expected CONSISTENCY_LINEARIZABLE (the default), CONSISTENCY_LEASE or CONSISTENCY_STALE."),
    };

    private static KeyValue Item(KvEntry entry) => new()
    {
        // The entry's arrays are not changed after the service returns them, so they are sent without a copy.
        Key = UnsafeByteOperations.UnsafeWrap(entry.Key),
        Value = UnsafeByteOperations.UnsafeWrap(entry.Value),
        Version = entry.Version,
    };
}
