using System.Net;

namespace LsmRaft.MultiNode.Tests;

/// <summary>
/// The node processes of one test, each an <c>lsmraft start</c> configured only by its environment: started and
/// restarted by name, reached over loopback HTTP (its <c>HTTP_PORT</c>), waited for until ready, their last output
/// gathered for failure messages; on dispose every process is killed and the data root deleted.
/// </summary>
internal sealed class ProcessCluster<TName> : IDisposable where TName : notnull
{
    private readonly Dictionary<TName, IReadOnlyDictionary<string, string>> _environments = new();
    private readonly Dictionary<TName, NodeProcess> _nodes = new();
    private readonly Func<TName, string> _label;

    /// <param name="rootPrefix">The temporary data root's name starts with it (a fresh, unique directory per cluster).</param>
    /// <param name="label">How failure messages name a node.</param>
    public ProcessCluster(string rootPrefix, Func<TName, string> label)
    {
        Root = Path.Combine(Path.GetTempPath(), rootPrefix + "-" + Guid.NewGuid().ToString("N"));
        _label = label;
    }

    /// <summary>The temporary directory the nodes' DATA_DIRs go under; deleted on dispose.</summary>
    public string Root { get; }

    /// <summary>The lsmraft executable the nodes run.</summary>
    public string Dll { get; } = LsmraftBinary.Locate();

    /// <summary>The running (or exited) process of a node started by <see cref="Start"/>.</summary>
    public NodeProcess this[TName name] => _nodes[name];

    public IReadOnlyDictionary<TName, NodeProcess> Nodes => _nodes;

    /// <summary>Records the environment node <paramref name="name"/> starts with (it must set HTTP_PORT).</summary>
    public void Configure(TName name, IReadOnlyDictionary<string, string> environment)
    {
        if (!environment.TryGetValue("HTTP_PORT", out var port) || !int.TryParse(port, out _))
            throw new ArgumentException($"{_label(name)}'s environment sets no numeric HTTP_PORT", nameof(environment));
        _environments[name] = environment;
    }

    public IReadOnlyDictionary<string, string> Environment(TName name) => _environments[name];

    /// <summary>Starts the node, killing the process it ran before, if any.</summary>
    public void Start(TName name)
    {
        if (_nodes.Remove(name, out var old))
            old.Dispose();
        _nodes[name] = new NodeProcess(Dll, _environments[name]);
    }

    /// <summary>The node's HTTP address on loopback, <c>http://127.0.0.1:HTTP_PORT/</c>.</summary>
    public Uri BaseAddress(TName name) => new($"http://127.0.0.1:{_environments[name]["HTTP_PORT"]}/");

    public HttpClient Client(TName name) => new() { BaseAddress = BaseAddress(name), Timeout = TimeSpan.FromSeconds(20) };

    /// <summary>
    /// Waits for each node's "serving" line, then asks it to report readiness with a server-side wait
    /// (<c>/readyz?wait=30</c>): no polling loop.
    /// </summary>
    public async Task WaitReadyAsync(params TName[] names)
    {
        foreach (var name in names)
        {
            (await _nodes[name].WaitServingAsync(TimeSpan.FromSeconds(60))).Should().BeTrue($"{_label(name)} must start listening\n{Diagnostics()}");
            using var client = Client(name);
            client.Timeout = TimeSpan.FromSeconds(45);
            var response = await client.GetAsync("/readyz?wait=30");
            response.StatusCode.Should().Be(HttpStatusCode.OK, $"{_label(name)} must become ready: {await response.Content.ReadAsStringAsync()}\n{Diagnostics()}");
        }
    }

    /// <summary>The last lines of every node's output, for failure messages.</summary>
    public string Diagnostics() => string.Join("\n", _nodes.Select(n => $"--- {_label(n.Key)} ---\n{n.Value.Output}"));

    public void Dispose()
    {
        foreach (var node in _nodes.Values)
            node.Dispose();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
        catch (IOException)
        {
        }
    }
}
