using System.Net;
using System.Text.Json;
using EventHub.Log;
using EventHub.Tests.Infrastructure;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace EventHub.Tests.Operations;

/// <summary>
/// A database failure reaches clients as a generic message, never as the database's own text
/// (which names tables, queries and server state), on the hub and over HTTP (issue 12, point 5).
/// </summary>
public sealed class ServerErrorTextTests
{
    // The words a leaked PostgreSQL error would carry.
    private static readonly string[] DatabaseText = ["division", "22012", "Postgres", "Npgsql", "SQL"];

    private static async Task<(HubServer Hub, ObservedReader Reader)> StartFailingAsync(TestDatabase db)
    {
        ObservedReader? reader = null;
        var hub = await HubServer.StartAsync(db.ConnectionString, ObservedReader.FollowerSettings, services: s => s.AddSingleton<IChangeLogReader>(sp =>
            reader = new ObservedReader(new ChangeLogReader(sp.GetRequiredService<NpgsqlDataSource>()), async ct =>
            {
                // A real PostgreSQL error, raised by the server: its text must stay on the server.
                await using var c = await sp.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(ct);
                await using var command = new NpgsqlCommand("SELECT 1 / 0", c);
                await command.ExecuteScalarAsync(ct);
            })));
        hub.Get<IChangeLogReader>();
        reader!.Failing = true;
        return (hub, reader);
    }

    [Fact]
    public async Task A_database_failure_in_GetHeadOffset_reaches_the_hub_client_as_a_generic_HubException_without_database_text()
    {
        await using var db = await TestDatabase.CreateAsync();
        var (hub, _) = await StartFailingAsync(db);
        await using var __ = hub;
        await using var client = await EventsHubClient.ConnectAsync(hub.BaseAddress);

        var error = await Assert.ThrowsAsync<HubException>(() => client.Connection.InvokeAsync<string>("GetHeadOffset").WithTimeout());
        Assert.Contains("Try again shortly", error.Message);
        foreach (var word in DatabaseText) Assert.DoesNotContain(word, error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(HubConnectionState.Connected, client.Connection.State);
    }

    [Theory]
    [InlineData("/api/v1/events/head")]
    [InlineData("/api/v1/events?after={epoch}-1-5")] // an offset outside the window is looked up before any header is sent
    public async Task A_database_failure_before_the_response_starts_gets_the_JSON_unavailable_error_without_database_text(string path)
    {
        await using var db = await TestDatabase.CreateAsync();
        var (hub, _) = await StartFailingAsync(db);
        await using var __ = hub;
        using var http = new HttpClient { BaseAddress = hub.BaseAddress };
        path = path.Replace("{epoch}", await db.EpochAsync());

        var response = await http.GetAsync(path, HttpCompletionOption.ResponseHeadersRead).WithTimeout();
        var body = await response.Content.ReadAsStringAsync();
        // The stream policy's answer to a failing database: retryable, the same on both transports.
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var error = JsonDocument.Parse(body).RootElement.GetProperty("error");
        Assert.Equal("unavailable", error.GetProperty("code").GetString());
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));
        foreach (var word in DatabaseText) Assert.DoesNotContain(word, body, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_database_failure_after_the_response_started_ends_the_SSE_stream_with_an_unavailable_frame_without_database_text()
    {
        await using var db = await TestDatabase.CreateAsync();
        await db.Writer.SessionAsync("ao", 1);
        FailingReads? reader = null;
        await using var hub = await HubServer.StartAsync(db.ConnectionString,
            new Dictionary<string, string?> { ["Stream:RecentEventsWindowSize"] = "0" }, // a stream from 0 reads the log
            services: s => s.AddSingleton<IChangeLogReader>(sp =>
                reader = new FailingReads(new ChangeLogReader(sp.GetRequiredService<NpgsqlDataSource>()), sp.GetRequiredService<NpgsqlDataSource>())));
        using (var http = new HttpClient { BaseAddress = hub.BaseAddress })
            await http.GetStringAsync("/api/v1/events/head").WithTimeout(); // ao-1 is in a tick
        reader!.Failing = true;

        // "0" is served after the headers (nothing to look up first): the failure comes as a last frame.
        await using var sse = await SseTestClient.ConnectAsync(hub.BaseAddress, "after=0");
        var end = await sse.ReadEventAsync();
        Assert.Equal("stream_error", end.Event);
        Assert.Null(end.Id); // the client's Last-Event-ID stays its last event's
        Assert.Equal("unavailable", end.Json.GetProperty("error").GetProperty("code").GetString());
        foreach (var word in DatabaseText) Assert.DoesNotContain(word, end.Data, StringComparison.OrdinalIgnoreCase);
        await Assert.ThrowsAsync<EndOfStreamException>(() => sse.ReadEventAsync());
    }

    /// <summary>While <see cref="Failing"/>, the log's catch-up reads fail with a real PostgreSQL error.</summary>
    private sealed class FailingReads(IChangeLogReader inner, NpgsqlDataSource dataSource) : DelegatingChangeLogReader(inner)
    {
        public volatile bool Failing;

        public override async Task<LogBatch> ReadAsync(LogPosition after, EventFilter filter, PageLimit limit, CancellationToken cancellationToken = default)
        {
            if (Failing)
            {
                await using var c = await dataSource.OpenConnectionAsync(cancellationToken);
                await using var command = new NpgsqlCommand("SELECT 1 / 0", c);
                await command.ExecuteScalarAsync(cancellationToken);
            }
            return await Inner.ReadAsync(after, filter, limit, cancellationToken);
        }
    }
}
