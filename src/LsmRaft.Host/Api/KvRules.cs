namespace LsmRaft.Host.Api;

/// <summary>
/// The rules every client API applies to a request before it reaches <see cref="IKvService"/>, in one place for
/// REST (<see cref="KvEndpoints"/>) and gRPC (<see cref="Grpc.KvGrpcService"/>): key and value limits, scan page sizes,
/// batch sizes, and how a scan's range, prefix and continuation narrow to one <see cref="ScanRequest"/>.
/// Every rejection is a <see cref="BadRequestException"/> (400) or a <see cref="TooLargeException"/> (413) whose
/// message names the part of the request, the bad value and what is accepted.
/// </summary>
internal static class KvRules
{
    /// <summary>A key: at least one byte, at most MaxKeyBytes.</summary>
    public static byte[] Key(byte[] key, ApiOptions options, string what = "key")
    {
        if (key.Length == 0)
            throw new BadRequestException($"The {what} is empty; keys must have at least one byte.");
        if (key.Length > options.MaxKeyBytes)
            throw new TooLargeException($"The {what} is {key.Length} bytes; the limit is {options.MaxKeyBytes} bytes (setting MaxKeyBytes).");
        return key;
    }

    public static void CheckValueSize(int length, ApiOptions options)
    {
        if (length > options.MaxValueBytes)
            throw new TooLargeException($"The value is {length} bytes; the limit is {options.MaxValueBytes} bytes (setting MaxValueBytes).");
    }

    /// <summary>A scan page size (1 to MaxScanLimit); <paramref name="what"/> names where it came from.</summary>
    public static int PageSize(long requested, ApiOptions options, string what)
    {
        if (requested >= 1 && requested <= options.MaxScanLimit)
            return (int)requested;
        throw new BadRequestException($"{what} is '{requested}': expected an integer from 1 to {options.MaxScanLimit}.");
    }

    /// <summary>A batch has 1 to MaxBatchOperations operations; <paramref name="expectedShape"/> ends the message for an empty one.</summary>
    public static void CheckBatchSize(int count, ApiOptions options, string expectedShape)
    {
        if (count == 0)
            throw new BadRequestException($"The batch has no operations; expected {expectedShape}.");
        if (count > options.MaxBatchOperations)
            throw new TooLargeException($"The batch has {count} operations; the limit is {options.MaxBatchOperations}.");
    }

    /// <summary>
    /// The page to read for a scan of [<paramref name="start"/>, <paramref name="end"/>) narrowed to keys with
    /// <paramref name="prefix"/> and resumed at <paramref name="resumeAt"/> (a continuation); null when the range is empty.
    /// </summary>
    public static ScanRequest? Scan(byte[]? start, byte[]? end, byte[]? prefix, byte[]? resumeAt, int pageSize, ReadConsistency consistency)
    {
        if (prefix is not null)
        {
            start = Max(start, prefix);
            end = Min(end, PrefixEnd(prefix));
        }
        if (resumeAt is not null)
            start = Max(start, resumeAt);
        if (start is not null && end is not null && start.AsSpan().SequenceCompareTo(end) >= 0)
            return null;
        return new ScanRequest(start, end, pageSize, consistency);
    }

    /// <summary>The first key after every key with <paramref name="prefix"/>, or null when there is none (all bytes 0xFF).</summary>
    internal static byte[]? PrefixEnd(byte[] prefix)
    {
        for (int i = prefix.Length - 1; i >= 0; i--)
        {
            if (prefix[i] != 0xFF)
            {
                var end = prefix[..(i + 1)];
                end[i]++;
                return end;
            }
        }
        return null;
    }

    private static byte[]? Max(byte[]? a, byte[] b) => a is null || a.AsSpan().SequenceCompareTo(b) < 0 ? b : a;

    private static byte[]? Min(byte[]? a, byte[]? b) =>
        a is null ? b : b is null ? a : a.AsSpan().SequenceCompareTo(b) <= 0 ? a : b;
}
