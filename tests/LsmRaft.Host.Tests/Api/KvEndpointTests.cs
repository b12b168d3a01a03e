using System.Buffers.Text;
using LsmRaft.Host.Api;
using LsmRaft.Host.Tests.Support;

namespace LsmRaft.Host.Tests.Api;

public sealed class KvEndpointTests : IAsyncLifetime
{
    private ApiHost _host = null!;
    private HttpClient Client => _host.Client;

    public async Task InitializeAsync() => _host = await ApiHost.StartAsync(new ApiOptions { MaxKeyBytes = 16, MaxValueBytes = 32, MaxBodyBytes = 256 });

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task Put_then_get_returns_the_value_as_json_with_its_version_and_etag()
    {
        var put = await Client.PutAsync("/v1/kv/user42", Http.Octets("hello"u8.ToArray()));
        var written = await put.JsonAsync();
        ulong version = written.GetProperty("version").GetUInt64();
        put.Headers.ETag!.Tag.Should().Be($"\"{version}\"");

        var get = await Client.GetAsync("/v1/kv/user42");
        var item = await get.JsonAsync();
        item.GetProperty("key").GetString().Should().Be("user42");
        item.GetProperty("value").GetString().Should().Be("hello");
        item.GetProperty("encoding").GetString().Should().Be("utf8");
        item.GetProperty("version").GetUInt64().Should().Be(version);
        get.Headers.ETag!.Tag.Should().Be($"\"{version}\"");
    }

    [Fact]
    public async Task Get_with_accept_octet_stream_returns_the_raw_value()
    {
        byte[] value = [0, 1, 2, 0xFF, 0xFE];
        (await Client.PutAsync("/v1/kv/raw", Http.Octets(value))).EnsureSuccessStatusCode();

        var get = await Client.SendAsync(Http.Request(HttpMethod.Get, "/v1/kv/raw", null, ("Accept", "application/octet-stream")));

        get.StatusCode.Should().Be(HttpStatusCode.OK);
        get.Content.Headers.ContentType!.MediaType.Should().Be("application/octet-stream");
        (await get.Content.ReadAsByteArrayAsync()).Should().Equal(value);
        get.Headers.ETag.Should().NotBeNull();
    }

    [Fact]
    public async Task Binary_keys_and_values_round_trip_through_base64url()
    {
        byte[] key = [0x00, 0x2F, 0xFF, 0x80];
        byte[] value = [0xC3, 0x28, 0x00];
        string encodedKey = Base64Url.EncodeToString(key);

        (await Client.PutAsync($"/v1/kv/{encodedKey}?encoding=base64url", Http.Octets(value))).EnsureSuccessStatusCode();
        var item = await (await Client.GetAsync($"/v1/kv/{encodedKey}?encoding=base64url")).JsonAsync();

        item.GetProperty("encoding").GetString().Should().Be("base64url");
        Base64Url.DecodeFromChars(item.GetProperty("key").GetString()).Should().Equal(key);
        Base64Url.DecodeFromChars(item.GetProperty("value").GetString()).Should().Equal(value);
        (await _host.Service.GetAsync(key, ReadConsistency.Linearizable, default))!.Value.Should().Equal(value);
    }

    [Fact]
    public async Task A_value_that_is_not_utf8_is_returned_as_base64url_even_for_a_text_key()
    {
        byte[] value = [0xFF, 0x00];
        (await Client.PutAsync("/v1/kv/bin", Http.Octets(value))).EnsureSuccessStatusCode();

        var item = await (await Client.GetAsync("/v1/kv/bin")).JsonAsync();

        item.GetProperty("encoding").GetString().Should().Be("base64url");
        item.GetProperty("key").GetString().Should().Be(Base64Url.EncodeToString("bin"u8));
        item.GetProperty("value").GetString().Should().Be(Base64Url.EncodeToString(value));
    }

    [Fact]
    public async Task Put_accepts_a_json_body_with_utf8_or_base64url_value()
    {
        (await Client.PutAsync("/v1/kv/a", Http.Json("""{"value":"text value"}"""))).EnsureSuccessStatusCode();
        (await Client.PutAsync("/v1/kv/b", Http.Json($$"""{"value":"{{Base64Url.EncodeToString([1, 2, 3])}}","encoding":"base64url"}"""))).EnsureSuccessStatusCode();

        (await _host.Service.GetAsync("a"u8.ToArray(), ReadConsistency.Linearizable, default))!.Value.Should().Equal("text value"u8.ToArray());
        (await _host.Service.GetAsync("b"u8.ToArray(), ReadConsistency.Linearizable, default))!.Value.Should().Equal([1, 2, 3]);
    }

    [Theory]
    [InlineData("""{"value":"***","encoding":"base64url"}""", "not valid base64url")]
    [InlineData("""{"value":"x","encoding":"hex"}""", "encoding is 'hex'")]
    [InlineData("""{"value":"x","valeu":"y"}""", "valeu")]
    [InlineData("""{"encoding":"utf8"}""", "value")]
    [InlineData("""{"value":null}""", "value")]
    [InlineData("""{"value":""", "not valid")]
    [InlineData("null", "JSON null")]
    public async Task Put_with_a_malformed_json_body_is_400_naming_the_problem(string body, string detail)
    {
        var response = await Client.PutAsync("/v1/kv/k", Http.Json(body));

        var problem = await response.ProblemAsync(HttpStatusCode.BadRequest);
        problem.GetProperty("detail").GetString().Should().Contain(detail);
    }

    [Theory]
    [InlineData("/v1/kv/%2A%2A?encoding=base64url", "not valid base64url")]
    [InlineData("/v1/kv/k?encoding=hex", "encoding")]
    [InlineData("/v1/kv/k?consistency=eventual", "consistency")]
    public async Task Get_with_a_malformed_key_or_parameter_is_400(string uri, string detail)
    {
        var problem = await (await Client.GetAsync(uri)).ProblemAsync(HttpStatusCode.BadRequest);
        problem.GetProperty("detail").GetString().Should().Contain(detail);
    }

    [Theory]
    [InlineData("linearizable")]
    [InlineData("lease")]
    [InlineData("stale")]
    public async Task Get_accepts_each_read_consistency(string consistency)
    {
        (await Client.PutAsync("/v1/kv/c", Http.Octets([7]))).EnsureSuccessStatusCode();
        (await Client.GetAsync($"/v1/kv/c?consistency={consistency}")).StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Get_of_a_missing_key_is_404()
    {
        var problem = await (await Client.GetAsync("/v1/kv/nothing")).ProblemAsync(HttpStatusCode.NotFound);
        problem.GetProperty("detail").GetString().Should().Contain("nothing");
    }

    [Fact]
    public async Task Limits_on_key_value_and_body_answer_413_naming_the_setting()
    {
        var longKey = await (await Client.GetAsync("/v1/kv/" + new string('k', 17))).ProblemAsync(HttpStatusCode.RequestEntityTooLarge);
        longKey.GetProperty("detail").GetString().Should().Contain("MaxKeyBytes");

        var rawValue = await (await Client.PutAsync("/v1/kv/k", Http.Octets(new byte[33]))).ProblemAsync(HttpStatusCode.RequestEntityTooLarge);
        rawValue.GetProperty("detail").GetString().Should().Contain("MaxValueBytes");

        var jsonValue = await (await Client.PutAsync("/v1/kv/k", Http.Json($$"""{"value":"{{new string('v', 33)}}"}"""))).ProblemAsync(HttpStatusCode.RequestEntityTooLarge);
        jsonValue.GetProperty("detail").GetString().Should().Contain("MaxValueBytes");

        var body = await (await Client.PutAsync("/v1/kv/k", Http.Octets(new byte[257]))).ProblemAsync(HttpStatusCode.RequestEntityTooLarge);
        body.GetProperty("detail").GetString().Should().Contain("MaxBodyBytes");

        var value = await (await Client.PutAsync("/v1/kv/k", Http.Octets(new byte[32]))).JsonAsync();
        value.GetProperty("version").GetUInt64().Should().BeGreaterThan(0);
    }

    [Fact]
    public async Task A_body_without_content_length_over_the_limit_is_413()
    {
        var content = new StreamContent(new MemoryStream(new byte[1000]));
        content.Headers.ContentType = new("application/octet-stream");
        var request = Http.Request(HttpMethod.Put, "/v1/kv/k", content);
        request.Headers.TransferEncodingChunked = true;

        await (await Client.SendAsync(request)).ProblemAsync(HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task If_match_with_the_current_etag_writes_and_a_stale_one_is_409_with_the_current_version()
    {
        var first = await Client.PutAsync("/v1/kv/doc", Http.Octets("v1"u8.ToArray()));
        string etag = first.Headers.ETag!.Tag;

        var second = await Client.SendAsync(Http.Request(HttpMethod.Put, "/v1/kv/doc", Http.Octets("v2"u8.ToArray()), ("If-Match", etag)));
        second.StatusCode.Should().Be(HttpStatusCode.OK);
        ulong current = (await second.JsonAsync()).GetProperty("version").GetUInt64();

        var stale = await Client.SendAsync(Http.Request(HttpMethod.Put, "/v1/kv/doc", Http.Octets("v3"u8.ToArray()), ("If-Match", etag)));
        var problem = await stale.ProblemAsync(HttpStatusCode.Conflict);
        problem.GetProperty("currentVersion").GetUInt64().Should().Be(current);
        problem.GetProperty("type").GetString().Should().Be("urn:lsmraft:problem:version-conflict");
        (await _host.Service.GetAsync("doc"u8.ToArray(), ReadConsistency.Linearizable, default))!.Value.Should().Equal("v2"u8.ToArray());
    }

    [Fact]
    public async Task If_none_match_star_creates_only_when_the_key_is_absent()
    {
        var create = await Client.SendAsync(Http.Request(HttpMethod.Put, "/v1/kv/once", Http.Octets([1]), ("If-None-Match", "*")));
        create.StatusCode.Should().Be(HttpStatusCode.OK);

        var again = await Client.SendAsync(Http.Request(HttpMethod.Put, "/v1/kv/once", Http.Octets([2]), ("If-None-Match", "*")));
        await again.ProblemAsync(HttpStatusCode.Conflict);
    }

    [Theory]
    [InlineData("If-Match", "W/\"3\"")]
    [InlineData("If-Match", "3")]
    [InlineData("If-Match", "*")]
    [InlineData("If-None-Match", "\"3\"")]
    public async Task Unsupported_preconditions_are_400(string header, string value)
    {
        var response = await Client.SendAsync(Http.Request(HttpMethod.Put, "/v1/kv/k", Http.Octets([1]), (header, value)));
        var problem = await response.ProblemAsync(HttpStatusCode.BadRequest);
        problem.GetProperty("detail").GetString().Should().Contain(header);
    }

    [Fact]
    public async Task Delete_is_204_when_the_key_existed_and_404_when_it_did_not()
    {
        (await Client.PutAsync("/v1/kv/gone", Http.Octets([1]))).EnsureSuccessStatusCode();

        (await Client.DeleteAsync("/v1/kv/gone")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        await (await Client.DeleteAsync("/v1/kv/gone")).ProblemAsync(HttpStatusCode.NotFound);
        await (await Client.GetAsync("/v1/kv/gone")).ProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Delete_with_if_match_deletes_only_the_expected_version()
    {
        var put = await Client.PutAsync("/v1/kv/cond", Http.Octets([1]));
        string etag = put.Headers.ETag!.Tag;

        await (await Client.SendAsync(Http.Request(HttpMethod.Delete, "/v1/kv/cond", null, ("If-Match", "\"999\"")))).ProblemAsync(HttpStatusCode.Conflict);
        (await Client.SendAsync(Http.Request(HttpMethod.Delete, "/v1/kv/cond", null, ("If-Match", etag)))).StatusCode.Should().Be(HttpStatusCode.NoContent);
        await (await Client.GetAsync("/v1/kv/cond")).ProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Cas_endpoint_creates_updates_conflicts_and_deletes()
    {
        var created = await (await Client.PostAsync("/v1/kv/ctr/cas", Http.Json("""{"expectedVersion":0,"value":"1"}"""))).JsonAsync();
        ulong v1 = created.GetProperty("version").GetUInt64();

        var updated = await (await Client.PostAsync("/v1/kv/ctr/cas", Http.Json($$"""{"expectedVersion":{{v1}},"value":"2"}"""))).JsonAsync();
        ulong v2 = updated.GetProperty("version").GetUInt64();
        v2.Should().BeGreaterThan(v1);

        var conflict = await (await Client.PostAsync("/v1/kv/ctr/cas", Http.Json($$"""{"expectedVersion":{{v1}},"value":"3"}"""))).ProblemAsync(HttpStatusCode.Conflict);
        conflict.GetProperty("currentVersion").GetUInt64().Should().Be(v2);

        var deleted = await (await Client.PostAsync("/v1/kv/ctr/cas", Http.Json($$"""{"expectedVersion":{{v2}}}"""))).JsonAsync();
        deleted.GetProperty("version").GetUInt64().Should().Be(0);
        await (await Client.GetAsync("/v1/kv/ctr")).ProblemAsync(HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("""{"value":"x"}""")]
    [InlineData("""{"expectedVersion":-1}""")]
    [InlineData("""{"expectedVersion":"one"}""")]
    [InlineData("not json")]
    public async Task Cas_with_a_malformed_body_is_400(string body)
    {
        await (await Client.PostAsync("/v1/kv/k/cas", Http.Json(body))).ProblemAsync(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Scan_pages_through_every_key_in_order_with_the_continuation_token()
    {
        var keys = Enumerable.Range(0, 25).Select(i => $"item{i:D2}").ToList();
        foreach (var key in keys)
            (await Client.PutAsync($"/v1/kv/{key}", Http.Octets(Encoding.UTF8.GetBytes("v" + key)))).EnsureSuccessStatusCode();
        (await Client.PutAsync("/v1/kv/other", Http.Octets([1]))).EnsureSuccessStatusCode();

        var seen = new List<string>();
        string? continuation = null;
        int pages = 0;
        do
        {
            string uri = "/v1/kv?prefix=item&limit=10" + (continuation is null ? "" : $"&continuation={continuation}");
            var page = await (await Client.GetAsync(uri)).JsonAsync();
            foreach (var item in page.GetProperty("items").EnumerateArray())
            {
                seen.Add(item.GetProperty("key").GetString()!);
                item.GetProperty("value").GetString().Should().Be("v" + item.GetProperty("key").GetString());
            }
            continuation = page.GetProperty("continuation").GetString();
            pages++;
        }
        while (continuation is not null);

        seen.Should().Equal(keys);
        pages.Should().Be(3);
    }

    [Fact]
    public async Task Scan_respects_start_inclusive_and_end_exclusive()
    {
        foreach (var key in new[] { "a", "b", "c", "d" })
            (await Client.PutAsync($"/v1/kv/{key}", Http.Octets([1]))).EnsureSuccessStatusCode();

        var page = await (await Client.GetAsync("/v1/kv?start=b&end=d")).JsonAsync();

        page.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("key").GetString()).Should().Equal("b", "c");
        page.GetProperty("continuation").ValueKind.Should().Be(System.Text.Json.JsonValueKind.Null);
    }

    [Fact]
    public async Task Scan_with_base64url_encoding_returns_binary_keys()
    {
        byte[] prefix = [0xFF, 0xFF];
        await _host.Service.PutAsync([0xFF, 0xFF, 1], [9], default);
        await _host.Service.PutAsync([0xFF, 0xFE], [9], default);

        var page = await (await Client.GetAsync($"/v1/kv?prefix={Base64Url.EncodeToString(prefix)}&encoding=base64url")).JsonAsync();

        var items = page.GetProperty("items").EnumerateArray().ToList();
        items.Should().ContainSingle();
        Base64Url.DecodeFromChars(items[0].GetProperty("key").GetString()).Should().Equal([0xFF, 0xFF, 1]);
    }

    [Theory]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=1001", "limit")]
    [InlineData("limit=ten", "limit")]
    [InlineData("limit=-5", "limit")]
    [InlineData("continuation=%2A%2A", "continuation")]
    [InlineData("start=%2A&encoding=base64url", "start")]
    public async Task Scan_with_a_bad_parameter_is_400_naming_it(string query, string parameter)
    {
        var problem = await (await Client.GetAsync("/v1/kv?" + query)).ProblemAsync(HttpStatusCode.BadRequest);
        problem.GetProperty("detail").GetString().Should().Contain(parameter);
    }

    [Fact]
    public async Task Batch_applies_puts_and_deletes()
    {
        (await Client.PutAsync("/v1/kv/old", Http.Octets([1]))).EnsureSuccessStatusCode();

        var result = await (await Client.PostAsync("/v1/batch", Http.Json(
            $$"""{"operations":[{"op":"put","key":"x","value":"1"},{"op":"put","key":"{{Base64Url.EncodeToString([0xFF])}}","value":"AAE","encoding":"base64url"},{"op":"delete","key":"old"}]}"""))).JsonAsync();

        result.GetProperty("applied").GetInt32().Should().Be(3);
        (await _host.Service.GetAsync("x"u8.ToArray(), ReadConsistency.Linearizable, default))!.Value.Should().Equal("1"u8.ToArray());
        (await _host.Service.GetAsync([0xFF], ReadConsistency.Linearizable, default))!.Value.Should().Equal([0, 1]);
        (await _host.Service.GetAsync("old"u8.ToArray(), ReadConsistency.Linearizable, default)).Should().BeNull();
    }

    [Theory]
    [InlineData("""{"operations":[]}""", "no operations")]
    [InlineData("""{"operations":[{"op":"upsert","key":"k","value":"v"}]}""", "'upsert'")]
    [InlineData("""{"operations":[{"op":"put","key":"k"}]}""", "without a value")]
    [InlineData("""{"operations":[{"op":"delete","key":"k","value":"v"}]}""", "with a value")]
    [InlineData("""{"operations":[{"op":"put","key":"","value":"v"}]}""", "empty")]
    [InlineData("""{"operations":[{"op":"put","key":"k","value":"v","encoding":"hex"}]}""", "hex")]
    [InlineData("""{"ops":[]}""", "ops")]
    public async Task Batch_with_a_malformed_operation_is_400(string body, string detail)
    {
        var problem = await (await Client.PostAsync("/v1/batch", Http.Json(body))).ProblemAsync(HttpStatusCode.BadRequest);
        problem.GetProperty("detail").GetString().Should().Contain(detail);
    }

    [Fact]
    public async Task Batch_spanning_shards_is_400_with_the_services_explanation()
    {
        _host.Service.FailWith = new CrossShardBatchException(2);

        var problem = await (await Client.PostAsync("/v1/batch", Http.Json("""{"operations":[{"op":"delete","key":"k"}]}"""))).ProblemAsync(HttpStatusCode.BadRequest);

        problem.GetProperty("type").GetString().Should().Be("urn:lsmraft:problem:cross-shard-batch");
        problem.GetProperty("detail").GetString().Should().Contain("2 shards");
    }
}
