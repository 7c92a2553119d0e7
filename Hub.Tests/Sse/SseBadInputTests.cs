using System.Net;
using System.Text.Json;
using EventHub.Tests.Infrastructure;

namespace EventHub.Tests.Sse;

/// <summary>Every bad request gets a 400 with {"error":{"code","message"}} and harms no other stream.</summary>
public sealed class SseBadInputTests : IAsyncLifetime
{
    private TestDatabase _db = null!;
    private HubServer _hub = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync(nameof(SseBadInputTests));
        await _db.Writer.SessionAsync("ao", 1);
        _hub = await HubServer.StartAsync(_db.ConnectionString);
        _http = new HttpClient { BaseAddress = _hub.BaseAddress };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _hub.DisposeAsync();
        await _db.DisposeAsync();
    }

    public static TheoryData<string, string> BadQueries => new()
    {
        { "after=not-an-offset", "invalid_offset" },
        { "after=", "invalid_offset" },
        { "after=abc.1", "invalid_offset" },
        { "after=abc.-1.5", "invalid_offset" },
        // Epochs no log of this hub can have (ten lowercase hex digits): malformed, not "another log".
        { "after=abc.1.2", "invalid_offset" },
        { "after=otherlog01.1.2", "invalid_offset" },
        { "after=ABCDEF0123.1.2", "invalid_offset" },
        { "after=0123456789a.1.2", "invalid_offset" },
        { "after=" + new string('9', 200), "invalid_offset" },
        { "project=", "invalid_project" },
        { "project=" + new string('p', 129), "invalid_project" },
        { "project=a%0Ab", "invalid_project" },
        { "type=", "invalid_type" },
        { "type=pr_updated%3Bdrop", "invalid_type" },
        { "type=*", "invalid_type" },
        { "type=" + new string('t', 65), "invalid_type" },
        { "type=reset", "invalid_type" }, // the stream's own signals: a filter on them would match nothing
        { "type=stream_error", "invalid_type" },
        { string.Join("&", Enumerable.Range(0, 101).Select(i => $"project=p{i}")), "too_many_projects" },
        { string.Join("&", Enumerable.Range(0, 51).Select(i => $"type=t{i}")), "too_many_types" },
        { "unnamed=yes", "invalid_parameter" },
        { "unnamed=", "invalid_parameter" },
        { "unnamed=true&unnamed=false", "invalid_parameter" },
    };

    [Theory]
    [MemberData(nameof(BadQueries))]
    public async Task A_bad_query_gets_a_400_with_a_code_and_a_message(string query, string code)
    {
        var response = await _http.GetAsync("/api/v1/events?" + query).WithTimeout();
        await AssertBadRequest(response, code);
    }

    [Fact]
    public async Task A_project_or_type_named_more_often_than_the_limit_counts_once()
    {
        var query = string.Join("&", Enumerable.Repeat("project=ao", 101).Concat(Enumerable.Repeat("type=session_*", 51)));
        using var response = await _http.GetAsync("/api/v1/events?after=0&" + query, HttpCompletionOption.ResponseHeadersRead).WithTimeout();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task A_malformed_Last_Event_ID_gets_a_400()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/events");
        request.Headers.TryAddWithoutValidation("Last-Event-ID", "garbage!");
        await AssertBadRequest(await _http.SendAsync(request).WithTimeout(), "invalid_offset");
    }

    [Fact]
    public async Task An_offset_beyond_anything_this_log_has_written_gets_a_400()
    {
        var epoch = await _db.EpochAsync();
        var response = await _http.GetAsync($"/api/v1/events?after={epoch}-zzzzzz-1").WithTimeout();
        await AssertBadRequest(response, "offset_out_of_range");
    }

    [Fact]
    public async Task Bad_requests_do_not_disturb_a_healthy_stream()
    {
        await using var healthy = await SseTestClient.ConnectAsync(_hub.BaseAddress, "project=ao");
        foreach (var query in new[] { "after=bad", "project=", "type=*" })
            Assert.Equal(HttpStatusCode.BadRequest, (await _http.GetAsync("/api/v1/events?" + query).WithTimeout()).StatusCode);
        await _db.Writer.SessionAsync("ao", 2);
        Assert.Equal("ao-2", (await healthy.ReadEventAsync()).Payload.GetProperty("id").GetString());
    }

    private static async Task AssertBadRequest(HttpResponseMessage response, string code)
    {
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal(code, error.GetProperty("code").GetString());
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));
    }
}
