using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using LsmRaft.MultiNode.Tests;
using LsmRaft.Tests.Shared;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace LsmRaft.Ui.Tests;

/// <summary>
/// The admin UI in a real browser (Debian's Chromium driven by Playwright) against three real `lsmraft start`
/// processes: it shows the nodes and every shard's leader, a write shows in the traffic chart, a leader transfer
/// made in the UI takes effect (checked through the API), a killed node shows as down, and the browser logs no
/// error. Screenshots of every page go to the test output (and to docs/ui/ when LSMRAFT_UI_SCREENSHOTS names it).
/// </summary>
public sealed class AdminUiTests : IAsyncLifetime
{
    private const string ChromiumPath = "/usr/bin/chromium";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    private readonly ITestOutputHelper _output;
    private readonly ProcessCluster<ulong> _cluster = LoopbackProcessCluster.Configure("lsmraft-ui", 3, "lsmraft-ui-test", "ui-test-secret-0123456789abcdef",
        new Dictionary<string, string> { ["LSMRAFT_SHARDS"] = "2" });
    private readonly List<string> _browserErrors = [];
    private readonly string _screenshots;
    private IPlaywright? _playwright;
    private IBrowser? _browser;

    public AdminUiTests(ITestOutputHelper output)
    {
        _output = output;
        _screenshots = Environment.GetEnvironmentVariable("LSMRAFT_UI_SCREENSHOTS") is { Length: > 0 } dir
            ? Path.GetFullPath(dir)
            : Path.Combine(AppContext.BaseDirectory, "ui-screenshots");
    }

    public async Task InitializeAsync()
    {
        File.Exists(ChromiumPath).Should().BeTrue($"the browser test needs Debian's Chromium at {ChromiumPath} (.ci/run installs it: apt-get install -y chromium)");
        for (ulong id = 1; id <= 3; id++)
            _cluster.Start(id);
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            // Without these Chromium tries to reach Google's hosts, which this machine's closed network refuses.
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
        await _cluster.WaitReadyAsync(1, 2, 3);
    }

    [Fact]
    public async Task The_ui_shows_the_cluster_live_transfers_a_leader_and_reports_a_killed_node_down_without_browser_errors()
    {
        var started = Stopwatch.StartNew();
        var page = await NewPageAsync(1280, 800);
        var response = await page.GotoAsync(Url(1, "/"));
        page.Url.Should().EndWith("/ui/", "GET / redirects to the UI");
        response!.Status.Should().Be(200);

        // Cluster: three nodes, all up.
        await page.WaitForFunctionAsync("() => document.querySelectorAll('[data-testid=node-row][data-state=up]').length === 3", null, Timeout());
        await ShotAsync(page, "cluster");

        // Shards: every shard of the API's map is listed with a leader.
        using var api = Client(1);
        var shards = await ShardsAsync(api);
        await page.GotoAsync(Url(1, "/ui/#/shards"));
        await page.WaitForFunctionAsync(
            "n => { const rows = [...document.querySelectorAll('[data-testid=shard-row]')]; return rows.length === n && rows.every(r => r.dataset.leader !== ''); }",
            shards.Count, Timeout());
        await page.WaitForFunctionAsync("() => document.querySelectorAll('[data-testid=shard-row] .chip').length > 0 && ![...document.querySelectorAll('[data-testid=shard-row] .chip')].some(c => c.textContent.endsWith('?'))", null, Timeout());
        await ShotAsync(page, "shards");

        // Traffic: writes through node 1's API show up in node 1's requests-per-second chart.
        await page.GotoAsync(Url(1, "/ui/#/traffic"));
        for (int i = 0; i < 40; i++)
            (await api.PutAsync($"/v1/kv/ui-key-{i:D3}", new ByteArrayContent(Encoding.UTF8.GetBytes($"value {i}")))).StatusCode.Should().Be(HttpStatusCode.OK);
        await page.WaitForFunctionAsync(
            "() => { const p = document.querySelector('[data-testid=traffic-rate][data-node=\"1\"] path[data-series=put]'); return p && Number(p.dataset.max) > 0; }",
            null, Timeout());
        await ShotAsync(page, "traffic");

        // Storage and data pages render what the nodes report.
        await page.GotoAsync(Url(1, "/ui/#/storage"));
        await page.WaitForFunctionAsync("() => document.querySelectorAll('[data-testid=storage-node]').length === 3 && document.querySelectorAll('[data-testid=storage-row]').length > 0", null, Timeout());
        await ShotAsync(page, "storage");
        await page.GotoAsync(Url(1, "/ui/#/data"));
        await page.FillAsync("[data-testid=lookup-key]", "ui-key-007");
        await page.ClickAsync("[data-testid=lookup-submit]");
        (await page.Locator("[data-testid=lookup-value]").InnerTextAsync(new() { Timeout = (float)Wait.TotalMilliseconds })).Should().Be("value 7");
        await page.FillAsync("[data-testid=scan-prefix]", "ui-key-");
        await page.ClickAsync("[data-testid=scan-submit]");
        await page.WaitForFunctionAsync("() => document.querySelectorAll('[data-testid=scan-table] tbody tr').length === 20", null, Timeout());
        await ShotAsync(page, "data");

        // Actions: transfer a shard's leadership to another voter, confirmed in the dialog; the API then names the new leader.
        var shard = (await ShardsAsync(api)).First(s => s.Leader is not null);
        ulong target = shard.Replicas.First(r => r != shard.Leader);
        await page.GotoAsync(Url(1, "/ui/#/actions"));
        await page.SelectOptionAsync("[data-testid=transfer-shard]", shard.Id.ToString());
        await page.SelectOptionAsync("[data-testid=transfer-to]", target.ToString());
        await page.ClickAsync("[data-testid=transfer-submit]");
        await page.ClickAsync("[data-testid=confirm-ok]");
        await page.WaitForSelectorAsync("[data-testid=progress-item][data-state=done]", new() { Timeout = (float)Wait.TotalMilliseconds });
        (await ShardsAsync(api)).Single(s => s.Id == shard.Id).Leader.Should().Be(target, "the transfer made in the UI must take effect");
        await ShotAsync(page, "actions");

        // Phone width: the pages fit (no horizontal scrolling of the whole page).
        var phone = await NewPageAsync(390, 844);
        await phone.GotoAsync(Url(1, "/ui/#/shards"));
        await phone.WaitForSelectorAsync("[data-testid=shard-row]", new() { Timeout = (float)Wait.TotalMilliseconds });
        (await phone.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth")).Should().BeTrue("the shards page must fit a phone's width");
        await ShotAsync(phone, "shards-phone");

        // A killed node shows as down once the failure detector gives up on it (acceptable pause 10 s, hocon/cluster.conf).
        await page.GotoAsync(Url(1, "/ui/#/cluster"));
        var killed = Stopwatch.StartNew();
        _cluster[3].Kill();
        await page.WaitForSelectorAsync("[data-testid=node-row][data-node=\"3\"][data-state=down]", new() { Timeout = 30_000 });
        _output.WriteLine($"node 3 shown down {killed.Elapsed.TotalSeconds:F1} s after kill -9");
        await page.WaitForSelectorAsync("[data-testid=events] li[data-kind=node-state]", new() { Timeout = (float)Wait.TotalMilliseconds });
        await ShotAsync(page, "cluster-node-down");

        _browserErrors.Should().BeEmpty("the UI must not log errors to the browser console");
        _output.WriteLine($"browser test took {started.Elapsed.TotalSeconds:F1} s; screenshots in {_screenshots}");
    }

    private async Task<IPage> NewPageAsync(int width, int height)
    {
        var page = await _browser!.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = width, Height = height } });
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
                lock (_browserErrors)
                    _browserErrors.Add($"console: {message.Text}");
        };
        page.PageError += (_, error) =>
        {
            lock (_browserErrors)
                _browserErrors.Add($"page error: {error}");
        };
        return page;
    }

    private PageWaitForFunctionOptions Timeout() => new() { Timeout = (float)Wait.TotalMilliseconds, PollingInterval = 100 };

    private async Task ShotAsync(IPage page, string name)
    {
        Directory.CreateDirectory(_screenshots);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(_screenshots, $"{name}.png") });
    }

    private string Url(ulong node, string path) => new Uri(_cluster.BaseAddress(node), path).ToString();

    private HttpClient Client(ulong node) => _cluster.Client(node);

    private sealed record Shard(ulong Id, ulong[] Replicas, ulong? Leader);

    private static async Task<List<Shard>> ShardsAsync(HttpClient api)
    {
        using var doc = JsonDocument.Parse(await api.GetStringAsync("/v1/cluster"));
        return doc.RootElement.GetProperty("shards").EnumerateArray().Select(s => new Shard(
            s.GetProperty("id").GetUInt64(),
            s.GetProperty("replicas").EnumerateArray().Select(r => r.GetUInt64()).ToArray(),
            s.GetProperty("leader").ValueKind == JsonValueKind.Number ? s.GetProperty("leader").GetUInt64() : null)).ToList();
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null)
            await _browser.DisposeAsync();
        _playwright?.Dispose();
        _cluster.Dispose();
    }
}
