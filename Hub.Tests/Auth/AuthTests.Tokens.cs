using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using EventHub.Tests.Infrastructure;
using Microsoft.AspNetCore.SignalR.Client;

namespace EventHub.Tests.Auth;

public sealed partial class AuthTests
{
    public static TheoryData<string, string> UnauthenticatedRequests => new()
    {
        { "no token", "unauthenticated" },
        { "a token signed with another key", "unauthenticated" },
        { "an expired token", "token_expired" },
        { "garbage", "unauthenticated" },
    };

    [Theory]
    [MemberData(nameof(UnauthenticatedRequests))]
    public async Task Token_mode_refuses_an_SSE_request_without_a_valid_token_with_401_and_the_JSON_error(string problem, string code)
    {
        var a = fixture.NewProject("a");
        string? token = problem switch
        {
            "no token" => null,
            "a token signed with another key" => TestTokens.Mint([a], key: "another-key-that-is-long-enough-for-hs256!!"),
            "an expired token" => TestTokens.Mint([a], TimeSpan.FromMinutes(-1)),
            _ => "not.a.token",
        };
        using var http = new HttpClient { BaseAddress = fixture.TokenHub.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/events?project={a}");
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var response = await http.SendAsync(request).WithTimeout();

        await AssertErrorAsync(response, HttpStatusCode.Unauthorized, code);
        Assert.StartsWith("Bearer", response.Headers.WwwAuthenticate.ToString());
    }

    [Fact]
    public async Task Token_mode_refuses_a_hub_connection_without_a_token()
    {
        var error = await Assert.ThrowsAsync<HttpRequestException>(() => EventsHubClient.ConnectAsync(fixture.TokenHub.BaseAddress));
        Assert.Equal(HttpStatusCode.Unauthorized, error.StatusCode);
    }

    [Fact]
    public async Task Open_mode_needs_no_token()
    {
        var a = fixture.NewProject("a");
        await using var sse = await SseTestClient.ConnectAsync(fixture.OpenHub.BaseAddress, $"project={a}");
        await Writer.SessionAsync(a, 1);
        Assert.Equal(a, (await sse.ReadEventAsync()).ProjectId);
    }

    [Fact]
    public async Task A_request_for_a_project_outside_the_token_gets_403_on_SSE_and_a_HubException_on_the_hub()
    {
        var a = fixture.NewProject("a");
        var b = fixture.NewProject("b");
        var token = TestTokens.Mint([a]);
        using var http = new HttpClient { BaseAddress = fixture.TokenHub.BaseAddress };
        // Asking for a and b is refused as a whole, not narrowed to a.
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/events?project={a}&project={b}");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        await AssertErrorAsync(await http.SendAsync(request).WithTimeout(), HttpStatusCode.Forbidden, "forbidden_project");

        await using var client = await EventsHubClient.ConnectAsync(fixture.TokenHub.BaseAddress, WireProtocol.Json,
            () => Task.FromResult<string?>(token));
        var refused = await client.StreamAsync([b], after: "0");
        var error = await refused.FailureAsync();
        Assert.Contains("forbidden_project:", error.Message);
        Assert.Contains($"'{b}'", error.Message);
        Assert.Equal(HubConnectionState.Connected, client.Connection.State);
    }

    [Fact]
    public async Task A_token_without_projects_may_read_none()
    {
        var token = TestTokens.Mint(projects: null);
        using var http = new HttpClient { BaseAddress = fixture.TokenHub.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/events");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        await AssertErrorAsync(await http.SendAsync(request).WithTimeout(), HttpStatusCode.Forbidden, "no_projects");
    }

    [Fact]
    public async Task A_wildcard_token_reads_every_project_and_all_projects_of_a_token_are_exactly_its_projects()
    {
        var a = fixture.NewProject("a");
        var b = fixture.NewProject("b");
        var c = fixture.NewProject("c");
        await using var wildcard = await SseTestClient.ConnectAsync(fixture.TokenHub.BaseAddress, "", bearer: TestTokens.Mint(["*"]));
        await using var twoOfThree = await SseTestClient.ConnectAsync(fixture.TokenHub.BaseAddress, "", bearer: TestTokens.Mint([a, c]));

        await Writer.SessionAsync(a, 1);
        await Writer.SessionAsync(b, 1);
        await Writer.SessionAsync(c, 1);

        // The wildcard stream sees the whole log, including other tests' projects: keep a, b, c.
        var seen = new List<string>();
        while (seen.Count < 3)
            if ((await wildcard.ReadEventAsync()).ProjectId is var p && (p == a || p == b || p == c)) seen.Add(p);
        Assert.Equal([a, b, c], seen);
        Assert.Equal([a, c], (await twoOfThree.ReadEventsAsync(2)).Select(f => f.ProjectId));
    }

    [Fact]
    public async Task The_token_is_accepted_as_access_token_in_the_query_for_SSE_and_for_the_hubs_WebSocket()
    {
        var a = fixture.NewProject("a");
        var token = TestTokens.Mint([a]);
        await using var sse = await SseTestClient.ConnectAsync(fixture.TokenHub.BaseAddress,
            $"project={a}&access_token={Uri.EscapeDataString(token)}");

        // As a browser does it: negotiate and WebSocket both carry ?access_token=.
        await using var socket = await RawHubSocket.ConnectAsync(fixture.TokenHub.BaseAddress, accessToken: token);
        await socket.SendTextAsync($$"""{"type":4,"invocationId":"1","target":"StreamEvents","arguments":[{"projects":["{{a}}"],"after":"0"}]}""" + RawHubSocket.RecordSeparator);

        await Writer.SessionAsync(a, 1);
        Assert.Equal(a, (await sse.ReadEventAsync()).ProjectId);
        var item = await socket.ReceiveUntilAsync(m => m.Contains("\"type\":2"));
        Assert.NotNull(item);
        Assert.Contains($"\"projectId\":\"{a}\"", item);
    }

    [Fact]
    public async Task The_access_token_in_the_query_never_reaches_a_log_at_any_level()
    {
        var a = fixture.NewProject("a");
        var token = TestTokens.Mint([a]);
        var expired = TestTokens.Mint([a], TimeSpan.FromMinutes(-1));
        var marker = fixture.NewProject("logmarker");

        await using (var sse = await SseTestClient.ConnectAsync(fixture.TokenHub.BaseAddress,
                         $"project={a}&{marker}=1&access_token={Uri.EscapeDataString(token)}"))
        await using (await RawHubSocket.ConnectAsync(fixture.TokenHub.BaseAddress, accessToken: token))
        {
            await Writer.SessionAsync(a, 1);
            await sse.ReadEventAsync();
        }
        var encodedName = TestTokens.Mint([a], TimeSpan.FromMinutes(-1));
        var encodedLetter = TestTokens.Mint([a], TimeSpan.FromMinutes(-1));
        using (var http = new HttpClient { BaseAddress = fixture.TokenHub.BaseAddress })
        {
            await http.GetAsync($"/api/v1/events?access_token={Uri.EscapeDataString(expired)}").WithTimeout(); // rejected: logged as such
            // The name percent-encoded (sent as written: Uri would decode %5F and %61 itself): the
            // query's reader decodes it, so it is the same parameter.
            Uri Raw(string pathAndQuery) => new(fixture.TokenHub.BaseAddress + pathAndQuery.TrimStart('/'),
                new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true });
            await http.GetAsync(Raw($"/api/v1/events?after=0&access%5Ftoken={Uri.EscapeDataString(encodedName)}")).WithTimeout();
            await http.GetAsync(Raw($"/api/v1/events?after=0&%61ccess_token={Uri.EscapeDataString(encodedLetter)}")).WithTimeout();
        }

        // The capture works (the host logged the request, with the rest of its query) ...
        var entries = fixture.TokenHubLogs.Entries.ToArray();
        Assert.Contains(entries, e => e.Category.StartsWith("Microsoft.AspNetCore.Hosting", StringComparison.Ordinal) && e.Contains(marker));
        Assert.Contains(entries, e => e.EventId.Id == 8001);
        // ... and no entry holds either token, or its signature alone.
        foreach (var t in new[] { token, expired, encodedName, encodedLetter }.SelectMany(t => new[] { t, t.Split('.')[2] }))
            Assert.DoesNotContain(entries, e => e.Contains(t));
    }

    private static async Task AssertErrorAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal(code, error.GetProperty("code").GetString());
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));
    }
}
