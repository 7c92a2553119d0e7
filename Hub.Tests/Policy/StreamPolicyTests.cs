using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Dapper;
using EventHub.Contracts;
using EventHub.Tests.Infrastructure;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Npgsql;

namespace EventHub.Tests.Policy;

/// <summary>
/// The per-stream policy is one: the same request gets the same answer (the same code) over SSE
/// and over the hub, for streams and for the head offset, and a failing database is answered the
/// same way on both without its error text. Real PostgreSQL, a real token-mode hub on loopback.
/// </summary>
public sealed class StreamPolicyTests : IAsyncLifetime
{
    private TestDatabase _db = null!;
    private HubServer _hub = null!;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync(nameof(StreamPolicyTests));
        _hub = await HubServer.StartAsync(_db.ConnectionString, TestTokens.TokenModeSettings());
    }

    public async Task DisposeAsync()
    {
        await _hub.DisposeAsync();
        await _db.DisposeAsync();
    }

    public static TheoryData<string, string[]?, string?, string[]?, string> Refusals => new()
    {
        // case, token's projects, offset, requested projects, expected code
        { "a malformed offset", ["ao"], "not-an-offset", ["ao"], "invalid_offset" },
        { "a project outside the token", ["ao"], null, ["web"], "forbidden_project" },
        { "a token without projects", null, null, null, "no_projects" },
        { "a token with an empty project list", [], "0", ["ao"], "no_projects" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task Both_transports_refuse_a_stream_with_the_same_code(string _, string[]? tokenProjects, string? after,
        string[]? projects, string code)
    {
        var token = TestTokens.Mint(tokenProjects);

        var (status, sseCode, _) = await SseOpenAsync(token, projects, after);
        Assert.True(status is >= 400 and < 500, $"SSE answered {status}");
        Assert.Equal(code, sseCode);

        await using var hub = await ConnectAsync(token);
        var stream = await hub.StreamAsync(projects, after: after);
        var failure = await stream.FailureAsync();
        Assert.StartsWith(code + ": ", HubText(failure));
    }

    [Fact]
    public async Task The_head_offset_is_authorized_like_a_stream_on_both_transports()
    {
        var noProjects = TestTokens.Mint(null);

        using var http = Http(noProjects);
        var response = await http.GetAsync("/api/v1/events/head").WithTimeout();
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("no_projects", ErrorCode(await response.Content.ReadAsStringAsync()));

        // The hub's connection is authenticated; the call itself must be authorized too.
        await using var hub = await ConnectAsync(noProjects);
        var failure = await Assert.ThrowsAsync<HubException>(() => hub.Connection.InvokeAsync<string>(EventHubMethods.GetHeadOffset).WithTimeout());
        Assert.StartsWith("no_projects: ", HubText(failure));

        // And a token that may read something gets the head on both.
        var reader = TestTokens.Mint(["ao"]);
        using var allowed = Http(reader);
        Assert.Equal(HttpStatusCode.OK, (await allowed.GetAsync("/api/v1/events/head").WithTimeout()).StatusCode);
        await using var allowedHub = await ConnectAsync(reader);
        Assert.False(string.IsNullOrEmpty(await allowedHub.Connection.InvokeAsync<string>(EventHubMethods.GetHeadOffset).WithTimeout()));
    }

    [Fact]
    public async Task A_database_that_refuses_connections_gets_the_same_retryable_answer_on_both_transports_without_its_error_text()
    {
        var token = TestTokens.Mint(["ao"]);
        // The connection is made while the database is up: only the stream open meets the outage.
        await using var hub = await ConnectAsync(token);

        var database = new NpgsqlConnectionStringBuilder(_db.ConnectionString).Database!;
        var server = await PostgresServer.GetAsync();
        await using (var admin = new NpgsqlConnection(server.AdminConnectionString))
        {
            await admin.OpenAsync();
            await admin.ExecuteAsync($"ALTER DATABASE \"{database}\" ALLOW_CONNECTIONS false");
            await admin.ExecuteAsync("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = @database AND pid <> pg_backend_pid()",
                new { database });
        }
        try
        {
            // "From now" asks the database for a snapshot when it opens (a catch-up from "0" on
            // this empty log would be served from memory and meet the outage only later).
            var (status, code, body) = await SseOpenAsync(token, ["ao"], null);
            Assert.Equal(503, status);
            Assert.Equal("unavailable", code);
            AssertNoServerText(body);

            var stream = await hub.StreamAsync(["ao"]);
            var failure = HubText(await stream.FailureAsync());
            AssertNoServerText(failure);
            // Not a coded (final) error: the clients retry it and resume from their offset.
            Assert.DoesNotMatch(@"^[a-z_]+: ", failure);

            var head = await Assert.ThrowsAsync<HubException>(() => hub.Connection.InvokeAsync<string>(EventHubMethods.GetHeadOffset).WithTimeout());
            AssertNoServerText(HubText(head));
        }
        finally
        {
            await using var admin = new NpgsqlConnection(server.AdminConnectionString);
            await admin.OpenAsync();
            await admin.ExecuteAsync($"ALTER DATABASE \"{database}\" ALLOW_CONNECTIONS true");
        }
    }

    private static void AssertNoServerText(string text)
    {
        foreach (var leak in new[] { "Npgsql", "Postgres", "55000", "57P01", "does not allow connections", "terminating connection", "Exception" })
            Assert.DoesNotContain(leak, text, StringComparison.OrdinalIgnoreCase);
    }

    private HttpClient Http(string token)
    {
        var http = new HttpClient { BaseAddress = _hub.BaseAddress };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http;
    }

    private async Task<(int Status, string? Code, string Body)> SseOpenAsync(string token, string[]? projects, string? after)
    {
        using var http = Http(token);
        var query = string.Join("&", (projects ?? []).Select(p => "project=" + Uri.EscapeDataString(p))
            .Concat(after is null ? [] : ["after=" + Uri.EscapeDataString(after)]));
        using var response = await http.GetAsync("/api/v1/events?" + query, HttpCompletionOption.ResponseHeadersRead).WithTimeout();
        var body = response.StatusCode == HttpStatusCode.OK ? "" : await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, response.StatusCode == HttpStatusCode.OK ? null : ErrorCode(body), body);
    }

    private static string? ErrorCode(string body)
    {
        try { return JsonDocument.Parse(body).RootElement.GetProperty("error").GetProperty("code").GetString(); }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException) { return null; }
    }

    private Task<EventsHubClient> ConnectAsync(string token) =>
        EventsHubClient.ConnectAsync(_hub.BaseAddress, accessToken: () => Task.FromResult<string?>(token));

    // SignalR prefixes the hub's text ("An unexpected error occurred invoking 'X' on the server. HubException: …").
    private static string HubText(Exception e)
    {
        const string marker = "HubException: ";
        var i = e.Message.LastIndexOf(marker, StringComparison.Ordinal);
        return i >= 0 ? e.Message[(i + marker.Length)..] : e.Message;
    }
}
