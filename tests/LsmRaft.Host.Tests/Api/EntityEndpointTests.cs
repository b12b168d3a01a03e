using LsmRaft.Host.Tests.Support;

namespace LsmRaft.Host.Tests.Api;

/// <summary>The origin's /v0/entity API keeps its statuses.</summary>
public sealed class EntityEndpointTests : IAsyncLifetime
{
    private ApiHost _host = null!;

    public async Task InitializeAsync() => _host = await ApiHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task Put_is_201_get_is_200_with_the_body_delete_is_202_then_get_is_404()
    {
        byte[] value = [0, 1, 2, 250];
        var put = await _host.Client.PutAsync("/v0/entity?id=e1", Http.Octets(value));
        put.StatusCode.Should().Be(HttpStatusCode.Created);

        var get = await _host.Client.GetAsync("/v0/entity?id=e1");
        get.StatusCode.Should().Be(HttpStatusCode.OK);
        (await get.Content.ReadAsByteArrayAsync()).Should().Equal(value);

        (await _host.Client.DeleteAsync("/v0/entity?id=e1")).StatusCode.Should().Be(HttpStatusCode.Accepted);
        (await _host.Client.GetAsync("/v0/entity?id=e1")).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Delete_of_a_missing_entity_is_still_202()
    {
        (await _host.Client.DeleteAsync("/v0/entity?id=never")).StatusCode.Should().Be(HttpStatusCode.Accepted);
    }

    [Theory]
    [InlineData("/v0/entity")]
    [InlineData("/v0/entity?id=")]
    [InlineData("/v0/entity?other=1")]
    public async Task A_missing_or_empty_id_is_400_for_every_method(string uri)
    {
        await (await _host.Client.GetAsync(uri)).ProblemAsync(HttpStatusCode.BadRequest);
        await (await _host.Client.PutAsync(uri, Http.Octets([1]))).ProblemAsync(HttpStatusCode.BadRequest);
        await (await _host.Client.DeleteAsync(uri)).ProblemAsync(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task V0_and_v1_share_the_keyspace()
    {
        (await _host.Client.PutAsync("/v0/entity?id=shared", Http.Octets("x"u8.ToArray()))).EnsureSuccessStatusCode();

        var item = await (await _host.Client.GetAsync("/v1/kv/shared")).JsonAsync();

        item.GetProperty("value").GetString().Should().Be("x");
    }
}
