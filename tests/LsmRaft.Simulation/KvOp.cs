namespace LsmRaft.Simulation;

internal enum KvOpKind : byte
{
    Read,
    Put,
    Delete,
    CompareAndSet,
}

/// <summary>
/// One client operation of the history, in model terms. Values are unique ids per write (0 = absent), so a
/// compare-and-set on a version is the same as a compare-and-set on the value that version names.
/// </summary>
/// <remarks>
/// <see cref="Call"/> and <see cref="Return"/> are logical times, distinct across the whole history.
/// An operation whose outcome is unknown (timed out) has <see cref="Known"/> false and returns at
/// <see cref="long.MaxValue"/>: it may take effect at any point after its call, or never.
/// </remarks>
internal sealed record KvOp
{
    public required int Id { get; init; }

    public required KvOpKind Kind { get; init; }

    public required int Key { get; init; }

    /// <summary>Put and CompareAndSet: the value id written (0 for a compare-and-delete).</summary>
    public long Value { get; init; }

    /// <summary>CompareAndSet: the value id that must be current (0 = the key must be absent).</summary>
    public long Expected { get; init; }

    public required long Call { get; init; }

    public long Return { get; set; } = long.MaxValue;

    public bool Known { get; set; }

    /// <summary>Read: the value id read (0 = absent).</summary>
    public long ReadValue { get; set; }

    /// <summary>Put/Delete: the key existed before; CompareAndSet: the comparison succeeded.</summary>
    public bool Flag { get; set; }

    public static KvOp Read(int id, int key, long call, long ret, long value) =>
        new() { Id = id, Kind = KvOpKind.Read, Key = key, Call = call, Return = ret, Known = true, ReadValue = value };

    public static KvOp Put(int id, int key, long value, long call, long? ret, bool existed = false) =>
        new() { Id = id, Kind = KvOpKind.Put, Key = key, Value = value, Call = call, Return = ret ?? long.MaxValue, Known = ret is not null, Flag = existed };

    public static KvOp Delete(int id, int key, long call, long? ret, bool existed = false) =>
        new() { Id = id, Kind = KvOpKind.Delete, Key = key, Call = call, Return = ret ?? long.MaxValue, Known = ret is not null, Flag = existed };

    public static KvOp Cas(int id, int key, long expected, long value, long call, long? ret, bool succeeded = false) =>
        new() { Id = id, Kind = KvOpKind.CompareAndSet, Key = key, Expected = expected, Value = value, Call = call, Return = ret ?? long.MaxValue, Known = ret is not null, Flag = succeeded };

    public override string ToString()
    {
        var window = Known ? $"[{Call},{Return}]" : $"[{Call},?]";
        return Kind switch
        {
            KvOpKind.Read => $"#{Id} read k{Key} -> {ReadValue} {window}",
            KvOpKind.Put => $"#{Id} put k{Key}={Value}" + (Known ? $" existed={Flag}" : " (unknown)") + $" {window}",
            KvOpKind.Delete => $"#{Id} delete k{Key}" + (Known ? $" existed={Flag}" : " (unknown)") + $" {window}",
            _ => $"#{Id} cas k{Key} {Expected}->{Value}" + (Known ? $" ok={Flag}" : " (unknown)") + $" {window}",
        };
    }
}
