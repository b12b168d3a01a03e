using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using LsmRaft.Tests.Shared;

namespace LsmRaft.MultiNode.Tests;

/// <summary>
/// `lsmraft start` as a process, when it cannot run: it exits on its own with code 3 and says why (docs/configuration.md,
/// "Readiness and exit codes"), instead of serving 503s or dying with a stack trace.
/// </summary>
public sealed class StartFailureTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "lsmraft-startfail-" + Guid.NewGuid().ToString("N"));
    private readonly int _peerPort, _httpPort;

    public StartFailureTests()
    {
        var ports = LoopbackPorts.FreeNodePorts(1);
        (_peerPort, _httpPort) = (ports[0], ports[1]);
        Directory.CreateDirectory(_root);
    }

    [Fact]
    public async Task A_torn_cluster_json_stops_the_start_with_code_3_naming_the_file()
    {
        await File.WriteAllTextAsync(Path.Combine(_root, "cluster.json"), "{\"MetaVoters\":[1],\"Sha");
        var (code, output) = await RunToExitAsync();
        code.Should().Be(3, output);
        output.Should().Contain("cannot start").And.Contain("cluster.json");
    }

    [Fact]
    public async Task An_HTTP_port_in_use_stops_the_start_with_code_3()
    {
        using var squatter = new TcpListener(IPAddress.Loopback, _httpPort);
        squatter.Start();
        var (code, output) = await RunToExitAsync();
        code.Should().Be(3, output);
        output.Should().Contain("cannot start").And.Contain(_httpPort.ToString());
    }

    /// <summary>Runs one single-node `lsmraft start` on the test's ports and data directory until it exits; at most 60 s, then it is killed.</summary>
    private async Task<(int ExitCode, string Output)> RunToExitAsync()
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(LsmraftBinary.Locate());
        info.ArgumentList.Add("start");
        info.Environment["PEER_ID"] = "1";
        info.Environment["PORT"] = _peerPort.ToString();
        info.Environment["HTTP_PORT"] = _httpPort.ToString();
        info.Environment["DATA_DIR"] = _root;
        info.Environment["LSMRAFT_BIND_ADDRESS"] = "127.0.0.1";
        info.Environment["DOTNET_gcServer"] = "0";
        using var process = Process.Start(info) ?? throw new InvalidOperationException("could not start dotnet");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            throw new TimeoutException($"lsmraft start did not exit within 60 s:\n{await stdout}\n{await stderr}");
        }
        return (process.ExitCode, (await stdout) + (await stderr));
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
