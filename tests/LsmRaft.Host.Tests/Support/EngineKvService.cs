using System.Buffers.Binary;
using LsmRaft.Host.Api;
using LsmRaft.Protocol.Cluster;
using LsmRaft.Storage;
using LsmRaft.Storage.IO;

namespace LsmRaft.Host.Tests.Support;

/// <summary>
/// A single-replica <see cref="IKvService"/> for API tests: a real <see cref="LsmEngine"/> on a
/// <see cref="MemoryFileSystem"/>, each key stored as [u64 big-endian version][value], versions from one counter.
/// Tests can block every operation on <see cref="Gate"/> and make every operation throw <see cref="FailWith"/>.
/// </summary>
internal sealed class EngineKvService : IKvService, IReadiness, IDisposable
{
    private readonly LsmEngine _engine = LsmEngine.Open("/kv", new LsmOptions { FileSystem = new MemoryFileSystem() });

    // Serializes read-modify-write operations (versions, compare-and-set); the engine itself is thread-safe.
    private readonly Lock _writeLock = new();
    private ulong _lastVersion;

    /// <summary>Awaited at the start of every operation; null = no wait.</summary>
    public Func<CancellationToken, Task>? Gate { get; set; }

    /// <summary>Thrown by every operation after the gate; null = operate normally.</summary>
    public Exception? FailWith { get; set; }

    public bool IsReady { get; set; } = true;

    public string? Reason { get; set; }

    public ClusterView View { get; set; } = new(
        "test-cluster", 3,
        [
            new NodeInfo(1, "127.0.0.1:8080", "http://127.0.0.1:8081", NodeState.Up, DateTimeOffset.UnixEpoch),
            new NodeInfo(2, "127.0.0.1:8082", "http://127.0.0.1:8083", NodeState.Down, null),
            new NodeInfo(3, "127.0.0.1:8084", "http://127.0.0.1:8085", NodeState.Up, DateTimeOffset.UnixEpoch),
        ],
        [
            new ShardInfo(1, 0, ulong.MaxValue / 2, 2, [1, 2], [], 1),
            new ShardInfo(2, ulong.MaxValue / 2 + 1, ulong.MaxValue, 5, [1, 2], [], null),
        ]);

    public async Task<KvEntry?> GetAsync(byte[] key, ReadConsistency consistency, CancellationToken cancellationToken)
    {
        await EnterAsync(cancellationToken);
        return Read(key);
    }

    public async Task<ulong> PutAsync(byte[] key, byte[] value, CancellationToken cancellationToken)
    {
        await EnterAsync(cancellationToken);
        lock (_writeLock)
            return Write(key, value);
    }

    public async Task<bool> DeleteAsync(byte[] key, CancellationToken cancellationToken)
    {
        await EnterAsync(cancellationToken);
        lock (_writeLock)
        {
            bool existed = _engine.Get(key) is not null;
            _engine.Delete(key);
            return existed;
        }
    }

    public async Task<ulong> CompareAndSetAsync(byte[] key, ulong expectedVersion, byte[]? value, CancellationToken cancellationToken)
    {
        await EnterAsync(cancellationToken);
        lock (_writeLock)
        {
            ulong current = Read(key)?.Version ?? 0;
            if (current != expectedVersion)
                throw new VersionConflictException(current);
            if (value is null)
            {
                _engine.Delete(key);
                return 0;
            }
            return Write(key, value);
        }
    }

    public async Task BatchAsync(IReadOnlyList<BatchOperation> operations, CancellationToken cancellationToken)
    {
        await EnterAsync(cancellationToken);
        lock (_writeLock)
        {
            var batch = new WriteBatch();
            foreach (var op in operations)
            {
                if (op.Value is null)
                    batch.Delete(op.Key);
                else
                    batch.Put(op.Key, Encode(++_lastVersion, op.Value));
            }
            _engine.Write(batch);
        }
    }

    public async Task<ScanPage> ScanAsync(ScanRequest request, CancellationToken cancellationToken)
    {
        await EnterAsync(cancellationToken);
        // One extra entry tells whether another page exists and where it starts.
        var rows = _engine.Scan(request.Start, request.End, request.Limit + 1);
        var entries = rows.Take(request.Limit).Select(r => Decode(r.Key, r.Value)).ToList();
        return new ScanPage(entries, rows.Count > request.Limit ? rows[request.Limit].Key : null);
    }

    public ClusterView GetClusterView() => View;

    public void Dispose() => _engine.Dispose();

    private async Task EnterAsync(CancellationToken cancellationToken)
    {
        if (Gate is { } gate)
            await gate(cancellationToken);
        if (FailWith is { } failure)
            throw failure;
    }

    private KvEntry? Read(byte[] key) => _engine.Get(key) is { } stored ? Decode(key, stored) : null;

    private ulong Write(byte[] key, byte[] value)
    {
        ulong version = ++_lastVersion;
        _engine.Put(key, Encode(version, value));
        return version;
    }

    private static byte[] Encode(ulong version, byte[] value)
    {
        var stored = new byte[8 + value.Length];
        BinaryPrimitives.WriteUInt64BigEndian(stored, version);
        value.CopyTo(stored, 8);
        return stored;
    }

    private static KvEntry Decode(byte[] key, byte[] stored) =>
        new(key, stored[8..], BinaryPrimitives.ReadUInt64BigEndian(stored));
}
