using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using LsmRaft.Actors.Background;
using LsmRaft.Protocol.Cluster;
using LsmRaft.Storage;

namespace LsmRaft.Host.Config;

/// <summary>Where settings come from; the CLI builds it from the process, tests build it by hand.</summary>
/// <param name="ConfigFile">A JSON (comments allowed) file of settings, or null for none.</param>
/// <param name="Environment">Environment variables (only the names in <see cref="ConfigLoader.Settings"/> are read).</param>
/// <param name="Flags">Command-line values by setting name (<see cref="SettingSpec.Name"/>), as typed.</param>
/// <param name="InContainer">Whether the process runs in a container (changes the DataDir default).</param>
internal sealed record ConfigSources(
    string? ConfigFile,
    IReadOnlyDictionary<string, string?> Environment,
    IReadOnlyDictionary<string, string> Flags,
    bool InContainer);

/// <summary>A loaded configuration, or the errors that prevent one (each names the setting, the value and what is accepted).</summary>
internal sealed record ConfigResult(NodeConfig? Config, IReadOnlyList<string> Errors)
{
    public bool IsValid => Config is not null;
}

/// <summary>One setting's names in each source and how its text is parsed.</summary>
/// <param name="Name">The <see cref="NodeConfig"/> property, also the key of <see cref="ConfigSources.Flags"/>.</param>
/// <param name="Env">Environment variable (the origin's names unchanged, LSMRAFT_-prefixed for the rest).</param>
/// <param name="Flag">Command-line flag of <c>lsmraft start</c>.</param>
/// <param name="Json">Member of the JSON config file.</param>
/// <param name="Accepted">What a valid value looks like, quoted in errors and in <c>--help</c>.</param>
/// <param name="IsSwitch">A boolean flag given without a value.</param>
internal sealed record SettingSpec(
    string Name,
    string Env,
    string Flag,
    string Json,
    string Accepted,
    Func<NodeConfig, string, NodeConfig?> Apply,
    bool IsSwitch = false)
{
    /// <summary>How errors name the setting: its environment variable and its flag.</summary>
    public string Label => $"{Env} ({Flag})";
}

/// <summary>
/// Loads a <see cref="NodeConfig"/>: defaults &lt; JSON file &lt; environment &lt; flags, then validates the result as a
/// whole. Problems are collected, not thrown, so an operator sees all of them at once.
/// </summary>
internal static partial class ConfigLoader
{
    /// <summary>Every setting the loader knows, in the order docs/configuration.md lists them.</summary>
    public static IReadOnlyList<SettingSpec> Settings { get; } =
    [
        new("PeerId", "PEER_ID", "--peer-id", "peerId", NodeIds.Accepted,
            (c, s) => NodeIds.TryParse(s, out ulong id) ? c with { PeerId = id, PeerName = NodeIds.IsValidName(s) ? s : null } : null),
        new("Port", "PORT", "--port", "port", "a port from 1 to 65535",
            (c, s) => ParseInt(s) is { } v ? c with { Port = v } : null),
        new("AkkaPort", "AKKA_PORT", "--akka-port", "akkaPort", "a port from 1 to 65535 (default: PORT + 10000, or PORT - 10000 above 55535)",
            (c, s) => ParseInt(s) is { } v ? c with { AkkaPort = v } : null),
        new("HttpPort", "HTTP_PORT", "--http-port", "httpPort", "a port from 1 to 65535",
            (c, s) => ParseInt(s) is { } v ? c with { HttpPort = v } : null),
        new("GroupId", "GROUP_ID", "--group-id", "groupId", "1 to 64 of A-Z a-z 0-9 . _ -, starting with a letter or digit",
            (c, s) => c with { GroupId = s }),
        new("Peers", "PEERS", "--peers", "peers", "comma-separated id:host:port entries (id an integer or a name), e.g. 1:10.0.0.1:8080,2:10.0.0.2:8080 or n1:n1:8761,n2:n2:8762",
            (c, s) => c with { Peers = ParsePeersLenient(s) }),
        new("DataDir", "DATA_DIR", "--data-dir", "dataDir", "a directory path",
            (c, s) => c with { DataDir = s }),
        new("FlushThresholdBytes", "FLUSH_THRESHOLD_BYTES", "--flush-threshold-bytes", "flushThresholdBytes", $"a byte count from {LsmOptions.MinFlushThresholdBytes} to {LsmOptions.MaxFlushThresholdBytes}",
            (c, s) => ParseLong(s) is { } v ? c with { FlushThresholdBytes = v } : null),
        new("BloomFpp", "BLOOM_FPP", "--bloom-fpp", "bloomFpp", "a number in (0, 0.5], e.g. 0.01",
            (c, s) => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? c with { BloomFpp = v } : null),
        new("BloomHashFuncs", "BLOOM_HASH_FUNCS", "--bloom-hash-funcs", "bloomHashFuncs", "an integer from 1 to 30, or empty to derive it from the FPP",
            (c, s) => s.Length == 0 ? c with { BloomHashFuncs = null } : ParseInt(s) is { } v ? c with { BloomHashFuncs = v } : null),
        new("Shards", "LSMRAFT_SHARDS", "--shards", "shards", "an integer from 1 to 4096 (shards per initial node)",
            (c, s) => ParseInt(s) is { } v ? c with { Shards = v } : null),
        new("ReplicationFactor", "LSMRAFT_REPLICATION_FACTOR", "--replication-factor", "replicationFactor", "an integer from 1 to the number of nodes, or empty for min(3, nodes)",
            (c, s) => s.Length == 0 ? c with { ReplicationFactor = null } : ParseInt(s) is { } v ? c with { ReplicationFactor = v } : null),
        new("ClusterSecret", "LSMRAFT_CLUSTER_SECRET", "--cluster-secret", "clusterSecret", "a secret of at least 16 characters",
            (c, s) => c with { ClusterSecret = s.Length == 0 ? null : s }),
        new("InsecureDev", "LSMRAFT_INSECURE_DEV", "--insecure-dev", "insecureDev", "true or false",
            (c, s) => ParseBool(s) is { } v ? c with { InsecureDev = v } : null, IsSwitch: true),
        new("Hosts", "LSMRAFT_HOSTS", "--hosts", "hosts", "comma-separated host=IP entries, e.g. n1=127.0.0.1,n2=127.0.0.1, or empty",
            (c, s) => ParseHosts(s) is { } hosts ? c with { Hosts = hosts } : null),
        new("Join", "LSMRAFT_JOIN", "--join", "join", "host:port of a running member's peer port, e.g. 10.0.0.1:8080",
            (c, s) => c with { Join = s.Length == 0 ? null : s }),
        new("MaxInFlightRequests", "LSMRAFT_MAX_IN_FLIGHT_REQUESTS", "--max-in-flight-requests", "maxInFlightRequests", "an integer from 1 to 1000000",
            (c, s) => ParseInt(s) is { } v ? c with { MaxInFlightRequests = v } : null),
        new("MaxKeyBytes", "LSMRAFT_MAX_KEY_BYTES", "--max-key-bytes", "maxKeyBytes", "a byte count from 1 to 1048576",
            (c, s) => ParseInt(s) is { } v ? c with { MaxKeyBytes = v } : null),
        new("MaxValueBytes", "LSMRAFT_MAX_VALUE_BYTES", "--max-value-bytes", "maxValueBytes", "a byte count from 1 to 268435456",
            (c, s) => ParseInt(s) is { } v ? c with { MaxValueBytes = v } : null),
        new("MaxBodyBytes", "LSMRAFT_MAX_BODY_BYTES", "--max-body-bytes", "maxBodyBytes", "a byte count from MaxValueBytes to 1073741824",
            (c, s) => ParseLong(s) is { } v ? c with { MaxBodyBytes = v } : null),
        new("DownReplicaTimeout", "LSMRAFT_DOWN_REPLICA_TIMEOUT", "--down-replica-timeout", "downReplicaTimeout", "a duration of at least 10s, e.g. 300, 90s, 5m, 1h",
            (c, s) => ParseDuration(s) is { } v ? c with { DownReplicaTimeout = v } : null),
        new("Rebalance", "LSMRAFT_REBALANCE", "--rebalance", "rebalance", "true or false",
            (c, s) => ParseBool(s) is { } v ? c with { Rebalance = v } : null),
        new("BindAddress", "LSMRAFT_BIND_ADDRESS", "--bind-address", "bindAddress", "an IP address, e.g. 0.0.0.0 or 127.0.0.1",
            (c, s) => c with { BindAddress = s }),
        new("RequestTimeout", "LSMRAFT_REQUEST_TIMEOUT", "--request-timeout", "requestTimeout", "a duration from 100ms to 10m, e.g. 10s",
            (c, s) => ParseDuration(s) is { } v ? c with { RequestTimeout = v } : null),
        new("RetryAfterSeconds", "LSMRAFT_RETRY_AFTER_SECONDS", "--retry-after-seconds", "retryAfterSeconds", "an integer from 1 to 3600",
            (c, s) => ParseInt(s) is { } v ? c with { RetryAfterSeconds = v } : null),
        new("AdminToken", "LSMRAFT_ADMIN_TOKEN", "--admin-token", "adminToken", "a token of at least 16 characters, or empty for open admin endpoints",
            (c, s) => c with { AdminToken = s.Length == 0 ? null : s }),
        new("ShutdownTimeout", "LSMRAFT_SHUTDOWN_TIMEOUT", "--shutdown-timeout", "shutdownTimeout", "a duration from 1s to 10m, e.g. 30s",
            (c, s) => ParseDuration(s) is { } v ? c with { ShutdownTimeout = v } : null),
        new("CompactionParallelism", "LSMRAFT_COMPACTION_PARALLELISM", "--compaction-parallelism", "compactionParallelism", "an integer from 1 to 64, or empty for the HOCON value",
            (c, s) => s.Length == 0 ? c with { CompactionParallelism = null } : ParseInt(s) is { } v ? c with { CompactionParallelism = v } : null),
        new("CompactionBytesPerSecond", "LSMRAFT_COMPACTION_BYTES_PER_SECOND", "--compaction-bytes-per-second", "compactionBytesPerSecond", "0 (unlimited) or a byte rate from 1024 to 10240000000, or empty for the HOCON value",
            (c, s) => s.Length == 0 ? c with { CompactionBytesPerSecond = null } : ParseLong(s) is { } v ? c with { CompactionBytesPerSecond = v } : null),
        new("Metrics", "LSMRAFT_METRICS", "--metrics", "metrics", "true or false",
            (c, s) => ParseBool(s) is { } v ? c with { Metrics = v } : null),
        new("DataPlane", "LSMRAFT_DATA_PLANE", "--data-plane", "dataPlane", "kestrel or akka",
            (c, s) => Enum.TryParse<DataPlaneKind>(s, ignoreCase: true, out var v) && !int.TryParse(s, out _) ? c with { DataPlane = v } : null),
    ];

    /// <summary>The environment variable naming a config file when <c>--config</c> is not given.</summary>
    public const string ConfigFileEnv = "LSMRAFT_CONFIG";

    /// <summary>Whether this process runs in a container: Docker's marker file or the .NET images' variable.</summary>
    public static bool DetectContainer(IReadOnlyDictionary<string, string?> environment) =>
        string.Equals(environment.GetValueOrDefault("DOTNET_RUNNING_IN_CONTAINER"), "true", StringComparison.OrdinalIgnoreCase)
        || File.Exists("/.dockerenv");

    public static NodeConfig Defaults(bool inContainer) => new() { DataDir = inContainer ? "/data" : "./data" };

    public static ConfigResult Load(ConfigSources sources)
    {
        var errors = new List<string>();
        var config = Defaults(sources.InContainer);

        string? file = sources.ConfigFile ?? sources.Environment.GetValueOrDefault(ConfigFileEnv);
        if (!string.IsNullOrEmpty(file))
            config = ApplyFile(config, file, errors);

        foreach (var spec in Settings)
        {
            if (sources.Environment.GetValueOrDefault(spec.Env) is { } value)
                config = ApplyOne(config, spec, value.Trim(), $"{spec.Env} (environment)", errors);
        }
        foreach (var (name, value) in sources.Flags)
        {
            var spec = Settings.FirstOrDefault(s => s.Name == name)
                ?? throw new ArgumentException($"No setting is named '{name}'.", nameof(sources));
            config = ApplyOne(config, spec, value.Trim(), spec.Flag, errors);
        }

        // A setting that failed to parse kept its previous value; rules that involve it would judge that value, not
        // the operator's, so they are left out (the parse error already names the setting).
        var unparsed = Settings.Where(spec => errors.Any(e => e.StartsWith(spec.Env + " ", StringComparison.Ordinal) || e.StartsWith(spec.Flag + " ", StringComparison.Ordinal) || e.StartsWith($"'{spec.Json}' in ", StringComparison.Ordinal)))
            .Select(spec => spec.Env)
            .ToList();
        errors.AddRange(Validate(config).Where(e => !unparsed.Any(env => Regex.IsMatch(e, $@"\b{env}\b"))));
        return errors.Count == 0 ? new ConfigResult(config, []) : new ConfigResult(null, errors);
    }

    private static NodeConfig ApplyOne(NodeConfig config, SettingSpec spec, string value, string source, List<string> errors)
    {
        if (spec.Name == "Peers")
        {
            var peerErrors = ParsePeers(value, source, out _);
            if (peerErrors.Count > 0)
            {
                errors.AddRange(peerErrors);
                return config;
            }
        }
        if (spec.Apply(config, value) is { } applied)
            return applied;
        errors.Add($"{source} is '{value}': expected {spec.Accepted}.");
        return config;
    }

    private static NodeConfig ApplyFile(NodeConfig config, string path, List<string> errors)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            errors.Add($"Config file '{path}' cannot be read: {e.Message} (--config or {ConfigFileEnv}).");
            return config;
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            errors.Add($"Config file '{path}' is not valid JSON: {e.Message}");
            return config;
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                errors.Add($"Config file '{path}' must hold a JSON object of settings, e.g. {{\"httpPort\": 8081}}.");
                return config;
            }
            foreach (var property in document.RootElement.EnumerateObject())
            {
                var spec = Settings.FirstOrDefault(s => s.Json == property.Name);
                string source = $"'{property.Name}' in {path}";
                if (spec is null)
                {
                    errors.Add($"{source} is not a setting; known settings: {string.Join(", ", Settings.Select(s => s.Json))}.");
                    continue;
                }
                if (property.Value.ValueKind == JsonValueKind.Null)
                    continue;
                if (JsonText(property.Value) is { } value)
                    config = ApplyOne(config, spec, value, source, errors);
                else
                    errors.Add($"{source} is {property.Value.GetRawText()}: expected {spec.Accepted}.");
            }
        }
        return config;
    }

    /// <summary>A JSON value as the text the environment would carry; arrays (peers) join their strings with commas.</summary>
    private static string? JsonText(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString(),
        JsonValueKind.Number => value.GetRawText(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        JsonValueKind.Array when value.EnumerateArray().All(e => e.ValueKind == JsonValueKind.String) =>
            string.Join(",", value.EnumerateArray().Select(e => e.GetString())),
        _ => null,
    };

    /// <summary>Every cross-setting and range rule; the CLI and the demo run it on any config before starting a node.</summary>
    public static IReadOnlyList<string> Validate(NodeConfig c)
    {
        var errors = new List<string>();
        void Check(bool ok, string name, object? value)
        {
            if (!ok)
            {
                var spec = Settings.First(s => s.Name == name);
                errors.Add($"{spec.Label} is {Format(value)}: expected {spec.Accepted}.");
            }
        }

        Check(c.PeerId is >= 1 and <= NodeIds.MaxNumericId || (NodeIds.IsNameId(c.PeerId) && c.PeerName is not null), "PeerId", c.NodeName);
        Check(c.Port is >= 1 and <= 65535, "Port", c.Port);
        Check(c.HttpPort is >= 1 and <= 65535, "HttpPort", c.HttpPort);
        if (c.Port == c.HttpPort)
            errors.Add($"PORT (--port) and HTTP_PORT (--http-port) are both {c.Port}: the peer protocol and the HTTP API need different ports.");
        Check(c.AkkaPort is null or (>= 1 and <= 65535), "AkkaPort", c.AkkaPort);
        if (c.EffectiveAkkaPort == c.Port || c.EffectiveAkkaPort == c.HttpPort)
            errors.Add($"The Akka port (AKKA_PORT, --akka-port; default PORT + 10000) is {c.EffectiveAkkaPort}, which PORT or HTTP_PORT already uses: give AKKA_PORT a port of its own.");
        Check(GroupIdPattern().IsMatch(c.GroupId), "GroupId", c.GroupId);
        Check(!string.IsNullOrWhiteSpace(c.DataDir), "DataDir", c.DataDir);
        Check(LsmOptions.IsValidFlushThreshold(c.FlushThresholdBytes), "FlushThresholdBytes", c.FlushThresholdBytes);
        Check(c.BloomFpp is > 0 and <= 0.5, "BloomFpp", c.BloomFpp);
        Check(c.BloomHashFuncs is null or (>= 1 and <= 30), "BloomHashFuncs", c.BloomHashFuncs);
        Check(c.Shards is >= 1 and <= 4096, "Shards", c.Shards);
        Check(c.MaxInFlightRequests is >= 1 and <= 1_000_000, "MaxInFlightRequests", c.MaxInFlightRequests);
        Check(c.MaxKeyBytes is >= 1 and <= 1 << 20, "MaxKeyBytes", c.MaxKeyBytes);
        Check(c.MaxValueBytes is >= 1 and <= 1 << 28, "MaxValueBytes", c.MaxValueBytes);
        Check(c.MaxBodyBytes >= c.MaxValueBytes && c.MaxBodyBytes <= 1L << 30, "MaxBodyBytes", c.MaxBodyBytes);
        Check(c.DownReplicaTimeout >= TimeSpan.FromSeconds(10), "DownReplicaTimeout", c.DownReplicaTimeout);
        Check(IPAddress.TryParse(c.BindAddress, out _), "BindAddress", c.BindAddress);
        Check(c.RequestTimeout >= TimeSpan.FromMilliseconds(100) && c.RequestTimeout <= TimeSpan.FromMinutes(10), "RequestTimeout", c.RequestTimeout);
        Check(c.RetryAfterSeconds is >= 1 and <= 3600, "RetryAfterSeconds", c.RetryAfterSeconds);
        Check(c.AdminToken is null || c.AdminToken.Length >= 16, "AdminToken", c.AdminToken is null ? null : "(hidden)");
        Check(c.ShutdownTimeout >= TimeSpan.FromSeconds(1) && c.ShutdownTimeout <= TimeSpan.FromMinutes(10), "ShutdownTimeout", c.ShutdownTimeout);
        // The pipelines' own limits (BackgroundSettings), so the configuration and the pipelines agree.
        Check(c.CompactionParallelism is null or (>= 1 and <= BackgroundSettings.MaxParallelism), "CompactionParallelism", c.CompactionParallelism);
        Check(c.CompactionBytesPerSecond is null or 0 or (>= BackgroundSettings.MinBytesPerSecond and <= BackgroundSettings.MaxBytesPerSecond), "CompactionBytesPerSecond", c.CompactionBytesPerSecond);
        if (c.Join is not null && !TryParseHostPort(c.Join, out _, out _))
            Check(false, "Join", c.Join);

        ValidatePeers(c, errors);
        return errors;
    }

    private static void ValidatePeers(NodeConfig c, List<string> errors)
    {
        foreach (var peer in c.Peers)
        {
            if (peer.Id == 0 || peer.Port is < 1 or > 65535 || peer.Host.Length == 0 || peer.ExplicitAkkaPort is < 1 or > 65535)
                errors.Add($"PEERS entry '{peer}' is invalid: expected id:host:port[:akkaPort] with id {NodeIds.Accepted} and ports 1–65535, e.g. 2:10.0.0.2:8080.");
        }
        foreach (var group in c.Peers.GroupBy(p => p.Id).Where(g => g.Count() > 1))
        {
            var names = group.Select(p => p.Name).Distinct().ToList();
            errors.Add(names.Count == 1
                ? $"PEERS lists id {names[0]} {group.Count()} times ({string.Join(", ", group)}): each node needs its own id."
                : $"PEERS names {string.Join(" and ", names.Select(n => $"'{n}'"))} map to the same node id {group.Key} (a hash collision of names): rename one of them.");
        }
        foreach (var group in c.Peers.GroupBy(p => (Host: p.Host.ToLowerInvariant(), p.Port)).Where(g => g.Count() > 1))
            errors.Add($"PEERS lists {group.Key.Host}:{group.Key.Port} for ids {string.Join(", ", group.Select(p => p.Name))}: each node needs its own address.");
        if (c.Peers.Count > 0)
        {
            var self = c.Peers.FirstOrDefault(p => p.Id == c.PeerId);
            if (self is null)
                errors.Add($"PEER_ID (--peer-id) is {c.NodeName}, which PEERS does not list; PEERS has ids {string.Join(", ", c.Peers.Select(p => p.Name))}. Add this node to PEERS or fix PEER_ID.");
            else if (self.Port != c.Port)
                errors.Add($"PEERS gives node {c.NodeName} peer port {self.Port} but PORT (--port) is {c.Port}: they must agree so other nodes can reach this one.");
            else if (self.AkkaPort != c.EffectiveAkkaPort)
                errors.Add($"PEERS gives node {c.NodeName} Akka port {self.AkkaPort} but AKKA_PORT (--akka-port) is {c.EffectiveAkkaPort}: other nodes find this one's Akka port in PEERS, so write it there as {self.Name}:{self.Host}:{self.Port}:{c.EffectiveAkkaPort} on every node (or leave AKKA_PORT at its default).");
        }
        int nodes = c.EffectivePeers.Count;
        if (c.ReplicationFactor is { } rf && (rf < 1 || rf > Math.Min(nodes, 7)))
            errors.Add($"LSMRAFT_REPLICATION_FACTOR (--replication-factor) is {rf}: expected an integer from 1 to {Math.Min(nodes, 7)} (the cluster starts with {nodes} node(s)).");
        if (c.ClusterSecret is { Length: < 16 })
            errors.Add("LSMRAFT_CLUSTER_SECRET (--cluster-secret) is too short: expected at least 16 characters.");
    }

    /// <summary>Parses PEERS; returns one error per bad entry (naming it), empty when all are valid.</summary>
    public static List<string> ParsePeers(string text, string source, out List<PeerAddress> peers)
    {
        peers = [];
        var errors = new List<string>();
        if (text.Length == 0)
            return errors;
        foreach (var raw in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (TryParsePeer(raw, out var peer))
                peers.Add(peer);
            else
                errors.Add($"{source} entry '{raw}' is invalid: expected id:host:port with id {NodeIds.Accepted}, e.g. 2:10.0.0.2:8080 or n2:n2:8762.");
        }
        return errors;
    }

    private static List<PeerAddress> ParsePeersLenient(string text)
    {
        ParsePeers(text, "", out var peers);
        return peers;
    }

    private static bool TryParsePeer(string text, out PeerAddress peer)
    {
        peer = null!;
        int colon = text.IndexOf(':');
        if (colon <= 0 || !NodeIds.TryParse(text[..colon], out ulong id))
            return false;
        string rest = text[(colon + 1)..];
        // host:port:akkaPort has two colons outside an IPv6 address's brackets (an unbracketed IPv6 host has more).
        int outside = 0, depth = 0;
        foreach (char c in rest)
        {
            depth += c == '[' ? 1 : c == ']' ? -1 : 0;
            outside += c == ':' && depth == 0 ? 1 : 0;
        }
        int last = rest.LastIndexOf(':');
        if (outside != 2 || rest.StartsWith(':'))
        {
            if (!TryParseHostPort(rest, out var plainHost, out var plainPort))
                return false;
            peer = new PeerAddress(id, plainHost, plainPort) { Name = text[..colon] };
            return true;
        }
        if (ParseInt(rest[(last + 1)..]) is not (>= 1 and <= 65535 and var akkaPort) || !TryParseHostPort(rest[..last], out var host, out var port))
            return false;
        peer = new PeerAddress(id, host, port) { Name = text[..colon], ExplicitAkkaPort = akkaPort };
        return true;
    }

    /// <summary>LSMRAFT_HOSTS: <c>host=IP,...</c>; null when an entry is malformed, its address is not an IP or a host repeats.</summary>
    private static IReadOnlyDictionary<string, string>? ParseHosts(string text)
    {
        if (text.Length == 0)
            return NodeConfig.NoHosts;
        var hosts = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var entry in text.Split(',', StringSplitOptions.TrimEntries))
        {
            int equals = entry.IndexOf('=');
            if (equals <= 0 || entry[..equals].Trim() is not { Length: > 0 } host || host.Any(char.IsWhiteSpace)
                || !IPAddress.TryParse(entry[(equals + 1)..].Trim(), out var address) || !hosts.TryAdd(host, address.ToString()))
                return null;
        }
        return hosts;
    }

    /// <summary>host:port or [ipv6]:port with a port in 1..65535.</summary>
    internal static bool TryParseHostPort(string text, out string host, out int port)
    {
        host = "";
        port = 0;
        int colon = text.LastIndexOf(':');
        if (colon <= 0 || ParseInt(text[(colon + 1)..]) is not (>= 1 and <= 65535 and var p))
            return false;
        var h = text[..colon];
        if (h.StartsWith('[') && h.EndsWith(']'))
            h = h[1..^1];
        if (h.Length == 0 || h.Any(char.IsWhiteSpace) || (h.Contains(':') && !IPAddress.TryParse(h, out _)))
            return false;
        host = h;
        port = p;
        return true;
    }

    private static int? ParseInt(string s) =>
        int.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) ? v : null;

    private static long? ParseLong(string s) =>
        long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) ? v : null;

    private static bool? ParseBool(string s) => s.ToLowerInvariant() switch
    {
        "true" or "1" or "yes" or "on" => true,
        "false" or "0" or "no" or "off" => false,
        _ => null,
    };

    /// <summary>Seconds ("300"), a number with a unit ("500ms", "90s", "5m", "1h") or a TimeSpan ("00:05:00").</summary>
    internal static TimeSpan? ParseDuration(string s)
    {
        var match = DurationPattern().Match(s);
        if (match.Success)
        {
            double amount = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
            return match.Groups[2].Value switch
            {
                "" or "s" => TimeSpan.FromSeconds(amount),
                "ms" => TimeSpan.FromMilliseconds(amount),
                "m" => TimeSpan.FromMinutes(amount),
                "h" => TimeSpan.FromHours(amount),
                _ => null,
            };
        }
        return s.Contains(':') && TimeSpan.TryParse(s, CultureInfo.InvariantCulture, out var span) && span >= TimeSpan.Zero ? span : null;
    }

    private static string Format(object? value) => value switch
    {
        null => "empty",
        string s => $"'{s}'",
        TimeSpan t => $"'{t}'",
        double d => d.ToString(CultureInfo.InvariantCulture),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    private static partial Regex GroupIdPattern();

    [GeneratedRegex(@"^(\d+(?:\.\d+)?)(ms|s|m|h)?$")]
    private static partial Regex DurationPattern();
}
