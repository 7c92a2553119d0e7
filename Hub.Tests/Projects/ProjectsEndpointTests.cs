using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using EventHub.Tests.Infrastructure;

namespace EventHub.Tests.Projects;

/// <summary>
/// <c>GET /api/v1/projects</c>: the registered projects a caller may read, including those with no
/// event yet (a picker offers them before anything happened in them), authorized as a stream.
/// </summary>
public sealed class ProjectsEndpointTests
{
    [Fact]
    public async Task Every_registered_project_is_listed_in_id_order_with_its_display_name_and_archived_flag_events_or_not()
    {
        await using var db = await TestDatabase.CreateAsync();
        await db.Writer.ExecuteAsync("""
            INSERT INTO projects (id, display_name, archived_at) VALUES
              ('zeta', NULL, NULL), ('ao', 'Agent Orchestrator', NULL), ('Bo', NULL, now()), ('bo', 'Quiet', NULL)
            """);
        await db.Writer.SessionAsync("ao", 1); // only ao has events
        await using var hub = await HubServer.StartAsync(db.ConnectionString);
        using var http = new HttpClient { BaseAddress = hub.BaseAddress };

        using var response = await http.GetAsync("/api/v1/projects").WithTimeout();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        var projects = body.GetProperty("projects").EnumerateArray()
            .Select(p => (p.GetProperty("id").GetString(), p.GetProperty("displayName").GetString(), p.GetProperty("archived").GetBoolean()))
            .ToList();
        Assert.Equal([("Bo", null, true), ("ao", "Agent Orchestrator", false), ("bo", "Quiet", false), ("zeta", null, false)], projects);
    }

    [Fact]
    public async Task In_token_mode_a_caller_sees_only_the_projects_its_token_grants_and_a_caller_without_a_token_gets_a_401()
    {
        await using var db = await TestDatabase.CreateAsync();
        await db.Writer.ExecuteAsync("INSERT INTO projects (id) VALUES ('ao'), ('bo'), ('co')");
        await using var hub = await HubServer.StartAsync(db.ConnectionString, TestTokens.TokenModeSettings());
        using var http = new HttpClient { BaseAddress = hub.BaseAddress };

        async Task<(HttpStatusCode Status, JsonElement Body)> GetAsync(string? token)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/projects");
            if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var response = await http.SendAsync(request).WithTimeout();
            return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
        }
        static string[] Ids(JsonElement body) => body.GetProperty("projects").EnumerateArray().Select(p => p.GetProperty("id").GetString()!).ToArray();

        var (status, body) = await GetAsync(TestTokens.Mint(["co", "ao", "nowhere"]));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(["ao", "co"], Ids(body)); // granted and registered; never bo

        (status, body) = await GetAsync(TestTokens.Mint(["*"]));
        Assert.Equal(["ao", "bo", "co"], Ids(body));

        (status, body) = await GetAsync(null);
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("unauthenticated", body.GetProperty("error").GetProperty("code").GetString());

        (status, body) = await GetAsync(TestTokens.Mint([]));
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal("no_projects", body.GetProperty("error").GetProperty("code").GetString());
    }
}
