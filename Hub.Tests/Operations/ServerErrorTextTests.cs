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
}
