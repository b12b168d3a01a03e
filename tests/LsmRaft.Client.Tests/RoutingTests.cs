using LsmRaft.Client.Routing;
using LsmRaft.Host.Tests.Support;

namespace LsmRaft.Client.Tests;

public sealed class RoutingTests : IAsyncLifetime
{
    private static readonly Uri A = new("http://node-a:8081/");
    private static readonly Uri B2 = new("http://node-b:8081/");
    private static readonly Uri C = new("http://node-c:8081/");
    private ApiHost _host = null!;

    public async Task InitializeAsync() => _host = await ApiHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private static byte[] Key(string text) => Encoding.UTF8.GetBytes(text);

    [Fact]
    public async Task An_unreachable_endpoint_is_skipped_and_the_next_one_becomes_preferred()
    {
        using var refusing = new RefusingHandler(_host.Server.CreateHandler(), "node-a:8081");
        var resolver = new EndpointRouteResolver([A, B2]);
        using var client = new LsmRaftClient(new LsmRaftClientOptions
        {
            Handler = refusing,
            RouteResolver = resolver,
            Retry = new LsmRaftRetryPolicy { InitialBackoff = TimeSpan.FromMilliseconds(1), MaxBackoff = TimeSpan.FromMilliseconds(2), Seed = 7 },
        });

        await client.PutAsync(Key("k"), Key("v"));
        await client.GetAsync(Key("k"));

        refusing.Requests.Should().Equal("node-a:8081", "node-b:8081", "node-b:8081");
        resolver.Preferred.Should().Be(B2);
    }

    [Fact]
    public async Task A_compare_and_set_that_could_not_connect_is_retried_elsewhere()
    {
        using var refusing = new RefusingHandler(_host.Server.CreateHandler(), "node-a:8081");
        using var client = new LsmRaftClient(new LsmRaftClientOptions
        {
            Handler = refusing,
            Endpoints = [A, B2],
            Retry = new LsmRaftRetryPolicy { InitialBackoff = TimeSpan.FromMilliseconds(1), MaxBackoff = TimeSpan.FromMilliseconds(2), Seed = 7 },
        });

        (await client.CompareAndSetAsync(Key("c"), 0, Key("v"))).Should().BeGreaterThan(0);
        refusing.Requests.Should().Equal("node-a:8081", "node-b:8081");
    }

    [Fact]
    public async Task A_leader_hint_in_an_answer_moves_later_requests_to_the_hinted_node()
    {
        using var hinting = new HintingHandler(_host.Server.CreateHandler(), "http://node-c:8081");
        var resolver = new EndpointRouteResolver([A]);
        using var client = new LsmRaftClient(new LsmRaftClientOptions { Handler = hinting, RouteResolver = resolver });

        await client.PutAsync(Key("k"), Key("v"));

        resolver.Preferred.Should().Be(C);
        resolver.Endpoints.Should().Equal(A, C);
    }

    [Fact]
    public async Task Failures_of_the_preferred_endpoint_move_attempts_along_the_list()
    {
        var resolver = new EndpointRouteResolver([A, B2, C]);
        var request = new RouteRequest(Key("k"), IsWrite: false);

        (await resolver.SelectAsync(request, 0, default)).Should().Be(A);
        resolver.Report(request, B2, RouteOutcome.Unavailable, null);
        resolver.Preferred.Should().Be(A, "only a failure of the preferred endpoint moves the preference");
        resolver.Report(request, A, RouteOutcome.Unreachable, null);
        (await resolver.SelectAsync(request, 1, default)).Should().Be(B2);
        resolver.Report(request, B2, RouteOutcome.Unavailable, null);
        (await resolver.SelectAsync(request, 2, default)).Should().Be(C);
        resolver.Report(request, C, RouteOutcome.Unavailable, null);
        (await resolver.SelectAsync(request, 3, default)).Should().Be(A, "the list wraps around");
        resolver.Report(request, A, RouteOutcome.Unreachable, null);
        resolver.Report(request, B2, RouteOutcome.Answered, null);
        resolver.Preferred.Should().Be(B2);
        resolver.Report(request, B2, RouteOutcome.Answered, A);
        resolver.Preferred.Should().Be(A);
    }

    [Fact]
    public void Endpoints_must_be_absolute_http_uris()
    {
        FluentActions.Invoking(() => new EndpointRouteResolver([])).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => new EndpointRouteResolver([new Uri("ftp://x/")])).Should().Throw<ArgumentException>().WithMessage("*http*");
        new EndpointRouteResolver([new Uri("http://x:1/some/path"), new Uri("http://x:1")]).Endpoints.Should().Equal(new Uri("http://x:1/"));
    }
}
