using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using LsmRaft.Bench.Cli;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using LsmRaft.Bench.Metrics;
using LsmRaft.Protocol.Api.V1;

namespace LsmRaft.Bench.Cluster;

/// <summary>
/// The <c>cluster</c> command: one closed-loop HTTP load generator for both LsmRaft (REST <c>/v1/kv</c>) and etcd
/// (its v3 JSON gateway, <c>/v3/kv/put</c> and <c>/v3/kv/range</c>), so the two systems see the same client.
/// C concurrent workers spread round-robin over the endpoints each loop "send one request, wait for the
/// answer" for a fixed time. For LsmRaft, <c>--protocol=grpc</c> sends the same operations over its gRPC API
/// (<c>lsmraft.v1.Kv</c>, HTTP/2 on the same port) instead of REST, so the two protocols can be compared on one cluster. Writes put random keys of a fixed key space; reads get keys of that space
/// (linearizable on both systems: LsmRaft's default ReadIndex, etcd's default serializable=false).
/// </summary>
internal static class ClusterLoad
{
    public static IReadOnlyList<string> Help { get; } =
    [
        "--target=KIND        lsmraft | etcd",
        "--endpoints=URLS     comma-separated base URLs (HTTP API of each node / etcd client URL)",
        "--op=OP              put | get (default put)",
        "--protocol=P         rest | grpc (default rest; grpc only for --target=lsmraft)",
        "--connections=N      concurrent closed-loop workers (default 16)",
        "--seconds=N          measured seconds (default 30)",
        "--warmup=N           seconds of the same load before measuring, excluded from the figures (default 5): connections, JIT tiers and caches settle",
        "--keys=N             key space (default 100000)",
        "--key_size=N         bytes per key (default 16)",
        "--value_size=N       bytes per value (default 100)",
    ];

    public static int Run(Flags flags, TextWriter output)
    {
        string target = flags.GetString("target", "");
        if (target is not ("lsmraft" or "etcd"))
            throw new FlagException("target", $"'{target}' is not one of lsmraft, etcd");
        var endpoints = flags.GetString("endpoints", "").Split(',', StringSplitOptions.RemoveEmptyEntries)
            .Select(e => Uri.TryCreate(e, UriKind.Absolute, out var u) ? u : throw new FlagException("endpoints", $"'{e}' is not an absolute URL")).ToArray();
        if (endpoints.Length == 0)
            throw new FlagException("endpoints", "at least one URL is required");
        string op = flags.GetString("op", "put");
        if (op is not ("put" or "get"))
            throw new FlagException("op", $"'{op}' is not one of put, get");
        string protocol = flags.GetString("protocol", "rest");
        if (protocol is not ("rest" or "grpc") || (protocol == "grpc" && target != "lsmraft"))
            throw new FlagException("protocol", $"'{protocol}' is not one of rest, grpc (grpc only with --target=lsmraft)");
        int connections = flags.GetInt32("connections", 16, 1, 4096);
        int seconds = flags.GetInt32("seconds", 30, 1, 3600);
        int warmup = flags.GetInt32("warmup", 5, 0, 600);
        int keys = flags.GetInt32("keys", 100_000, 1, int.MaxValue);
        int keySize = flags.GetInt32("key_size", 16, 8, 1024);
        int valueSize = flags.GetInt32("value_size", 100, 0, 1 << 20);
        flags.RejectUnknown("cluster");

        var handler = new SocketsHttpHandler { MaxConnectionsPerServer = connections, PooledConnectionLifetime = TimeSpan.FromMinutes(10) };
        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };
        // gRPC: one channel per node (HTTP/2, requests multiplexed; more connections once one's streams are all in use).
        var channels = protocol == "grpc"
            ? endpoints.Select(e => GrpcChannel.ForAddress(e, new GrpcChannelOptions
            {
                HttpHandler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true, PooledConnectionLifetime = TimeSpan.FromMinutes(10) },
                DisposeHttpClient = true,
            })).ToArray()
            : [];
        var value = Encoding.ASCII.GetBytes(new string('v', valueSize));
        var histograms = new LatencyHistogram[connections];
        var counts = new long[connections];
        var errors = new long[connections];
        var clock = Stopwatch.StartNew();
        var measureFrom = TimeSpan.FromSeconds(warmup);
        var deadline = measureFrom + TimeSpan.FromSeconds(seconds);
        var workers = Enumerable.Range(0, connections).Select(w => Task.Run(async () =>
        {
            var histogram = histograms[w] = new LatencyHistogram();
            var random = new Random(w * 7919 + 1);
            var endpoint = endpoints[w % endpoints.Length];
            var kv = channels.Length > 0 ? new Kv.KvClient(channels[w % channels.Length]) : null;
            var grpcValue = ByteString.CopyFrom(value);
            while (clock.Elapsed < deadline)
            {
                string key = random.Next(keys).ToString("D" + keySize, CultureInfo.InvariantCulture);
                long start = Stopwatch.GetTimestamp();
                bool ok = kv is not null
                    ? await GrpcAsync(kv, op, key, grpcValue).ConfigureAwait(false)
                    : await HttpAsync(http, target, op, endpoint, key, value).ConfigureAwait(false);
                long end = Stopwatch.GetTimestamp();
                if (clock.Elapsed < measureFrom)
                    continue;
                if (ok)
                {
                    histogram.RecordTicks(end - start);
                    counts[w]++;
                }
                else
                {
                    errors[w]++;
                }
            }
        })).ToArray();
        Task.WaitAll(workers);
        foreach (var channel in channels)
            channel.Dispose();
        double elapsed = (clock.Elapsed - measureFrom).TotalSeconds;
        var merged = new LatencyHistogram();
        foreach (var h in histograms)
            merged.Merge(h);
        output.WriteLine(string.Format(CultureInfo.InvariantCulture,
            "cluster target={0}{7} op={1} connections={2}: {3:F0} ops/sec  p50 {4:F0} micros  p99 {5:F0} micros  errors {6}",
            target, op, connections, counts.Sum() / elapsed, merged.PercentileNanos(50) / 1000, merged.PercentileNanos(99) / 1000, errors.Sum(), protocol == "grpc" ? " protocol=grpc" : ""));
        return errors.Sum() > counts.Sum() / 100 ? 1 : 0;
    }

    /// <summary>One REST request; true when it succeeded (a get of a missing key, 404, counts: it was served).</summary>
    private static async Task<bool> HttpAsync(HttpClient http, string target, string op, Uri endpoint, string key, byte[] value)
    {
        using var request = Build(target, op, endpoint, key, value);
        using var response = await http.SendAsync(request).ConfigureAwait(false);
        await response.Content.ReadAsByteArrayAsync().ConfigureAwait(false);
        return response.IsSuccessStatusCode || (op == "get" && (int)response.StatusCode == 404);
    }

    /// <summary>The same operation over gRPC; NOT_FOUND on a get counts as served, as REST's 404 does.</summary>
    private static async Task<bool> GrpcAsync(Kv.KvClient kv, string op, string key, ByteString value)
    {
        var keyBytes = ByteString.CopyFromUtf8(key);
        try
        {
            if (op == "put")
                await kv.PutAsync(new PutRequest { Key = keyBytes, Value = value }).ConfigureAwait(false);
            else
                await kv.GetAsync(new GetRequest { Key = keyBytes }).ConfigureAwait(false);
            return true;
        }
        catch (RpcException e)
        {
            return op == "get" && e.StatusCode == StatusCode.NotFound;
        }
    }

    private static HttpRequestMessage Build(string target, string op, Uri endpoint, string key, byte[] value)
    {
        if (target == "lsmraft")
        {
            if (op == "put")
            {
                var content = new ByteArrayContent(value);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
                return new HttpRequestMessage(HttpMethod.Put, new Uri(endpoint, $"/v1/kv/{key}")) { Content = content };
            }
            var get = new HttpRequestMessage(HttpMethod.Get, new Uri(endpoint, $"/v1/kv/{key}"));
            get.Headers.Accept.ParseAdd("application/octet-stream");
            return get;
        }
        string k = Convert.ToBase64String(Encoding.ASCII.GetBytes(key));
        string body = op == "put"
            ? $"{{\"key\":\"{k}\",\"value\":\"{Convert.ToBase64String(value)}\"}}"
            : $"{{\"key\":\"{k}\"}}";
        return new HttpRequestMessage(HttpMethod.Post, new Uri(endpoint, op == "put" ? "/v3/kv/put" : "/v3/kv/range"))
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
    }
}
