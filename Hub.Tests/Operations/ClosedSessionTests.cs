using System.Net;
using Dapper;
using EventHub.Tests.Infrastructure;
using Npgsql;
using Xunit.Abstractions;

namespace EventHub.Tests.Operations;

/// <summary>
/// Sessions the server closed while they sat idle in one of the hub's pools (what a database
/// restart, a failover, an administrator's <c>pg_terminate_backend</c> or a proxy does) are not
/// handed to a client's read: Npgsql hands out an idle session without checking it, so a catch-up
/// or a live-state read given one failed ("unavailable", 503) and its client had to come back, once
/// per closed session. The read runs again on a new session and the pool's idle ones are dropped.
/// </summary>
public sealed class ClosedSessionTests(ITestOutputHelper output)
{
    private const int LogRows = 300;
    private const string HubName = "closed-session-hub"; // the hub's sessions, told apart from the test's

    [Fact]
    public async Task Catch_up_sessions_the_server_closed_while_they_were_idle_are_not_handed_to_a_catch_up()
    {
        await using var db = await TestDatabase.CreateAsync();
        await db.Writer.SessionsAsync("bulk", LogRows);
        await using var hub = await StartHubAsync(db);
        await using var check = await db.DataSource.OpenConnectionAsync();
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => CatchUpAsync(hub))); // several sessions, kept (KeptSessionsTests)

        await TerminateAsync(check, $"{HubName} catch-up");

        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => CatchUpAsync(hub)));
    }

    [Fact]
    public async Task Shared_sessions_the_server_closed_while_they_were_idle_are_not_handed_to_a_live_state_read()
    {
        await using var db = await TestDatabase.CreateAsync();
        await db.Writer.SessionsAsync("bulk", LogRows);
        await using var hub = await StartHubAsync(db);
        using var http = new HttpClient { BaseAddress = hub.BaseAddress };
        await using var check = await db.DataSource.OpenConnectionAsync();
        await TaskTimeouts.UntilAsync(async () => await StateEntitiesAsync(http) == LogRows, because: "the state holds the log");

        await TerminateAsync(check, HubName);

        Assert.Equal(LogRows, await StateEntitiesAsync(http));
    }

    private static Task<HubServer> StartHubAsync(TestDatabase db) =>
        HubServer.StartAsync(db.ConnectionString + $";Application Name={HubName}", new Dictionary<string, string?>
        {
            ["Stream:RecentEventsWindowSize"] = "0", // catch-ups read the log, through the catch-up pool
            ["Stream:CatchUpBatchSize"] = "100",
        });

    /// <summary>Closes the idle sessions of one of the hub's pools (by application name), as the server does.</summary>
    private async Task TerminateAsync(NpgsqlConnection check, string applicationName)
    {
        var closed = (await check.QueryAsync<int>("""
            SELECT pid FROM pg_stat_activity
            WHERE datname = current_database() AND application_name = @applicationName AND state = 'idle'
            """, new { applicationName })).ToArray();
        output.WriteLine($"sessions of '{applicationName}' closed by the server: {string.Join(", ", closed)}");
        Assert.NotEmpty(closed);
        await check.ExecuteAsync("SELECT pg_terminate_backend(pid, 5000) FROM unnest(@closed) AS pid", new { closed });
    }

    private static async Task CatchUpAsync(HubServer hub)
    {
        await using var sse = await SseTestClient.ConnectAsync(hub.BaseAddress, "project=bulk&after=0");
        var frames = await sse.ReadEventsAsync(LogRows);
        Assert.All(frames, f => Assert.Equal("session_created", f.Event));
    }

    private static async Task<int> StateEntitiesAsync(HttpClient http)
    {
        using var response = await http.GetAsync("/api/v1/state?project=bulk").WithTimeout();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return body.RootElement.GetProperty("entities").GetArrayLength();
    }
}
