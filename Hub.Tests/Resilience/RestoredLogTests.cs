using Dapper;
using EventHub.Tests.Infrastructure;
using Npgsql;

namespace EventHub.Tests.Resilience;

/// <summary>
/// A copy of the database (a restore, a template copy, a promotion) is another log from the moment
/// it was made: an offset from before the copy gets the reset signal there, never a silent
/// continuation at whatever event the copy's own writes gave the same position (migration 0028).
/// </summary>
public sealed class RestoredLogTests
{
    [Fact]
    public async Task A_hub_on_a_copy_of_the_database_answers_an_offset_from_before_the_copy_with_a_reset_and_the_original_continues_it()
    {
        await using var db = await TestDatabase.CreateAsync();
        await db.Writer.SessionAsync("ao", 1);
        await db.Writer.SessionAsync("ao", 2);
        string offset;
        await using (var hub = await HubServer.StartAsync(db.ConnectionString))
        {
            await using var client = await SseTestClient.ConnectAsync(hub.BaseAddress, "after=0");
            await client.ReadEventAsync();
            offset = (await client.ReadEventAsync()).Id!; // the client has ao-1 and ao-2
        }

        // The copy, as a restore of a backup taken now would make it.
        var server = await PostgresServer.GetAsync();
        var original = new NpgsqlConnectionStringBuilder(db.ConnectionString).Database!;
        db.DataSource.Clear();
        NpgsqlConnection.ClearAllPools();
        await using (var admin = new NpgsqlConnection(server.AdminConnectionString))
        {
            await admin.OpenAsync();
            await admin.ExecuteAsync("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = @original AND pid <> pg_backend_pid()",
                new { original });
        }
        var copy = await server.CreateDatabaseAsync("restored", $"TEMPLATE {original}");
        await using var copySource = NpgsqlDataSource.Create(copy);

        // Both go on, each with writes of its own: the same positions name different events.
        await new SourceWriter(copySource).SessionAsync("ao", 30);
        await db.Writer.SessionAsync("ao", 3);

        await using (var onCopy = await HubServer.StartAsync(copy))
        {
            // ao-30 in a published tick first: the reset continues from the head, which is after it then.
            using (var http = new HttpClient { BaseAddress = onCopy.BaseAddress })
                await http.GetStringAsync("/api/v1/events/head").WithTimeout();
            await using var resumed = await SseTestClient.ConnectAsync(onCopy.BaseAddress, lastEventId: offset);
            var reset = await resumed.ReadEventAsync();
            Assert.Equal("reset", reset.Event);
            Assert.Equal("offset_from_another_log", reset.Json.GetProperty("reason").GetString());
            await using var continued = await SseTestClient.ConnectAsync(onCopy.BaseAddress, lastEventId: reset.Id);
            await new SourceWriter(copySource).SessionAsync("ao", 31);
            Assert.Equal("ao-31", (await continued.ReadEventAsync()).Payload.GetProperty("id").GetString());
        }

        // The original is still the log the offset came from: it continues it exactly.
        await using (var onOriginal = await HubServer.StartAsync(db.ConnectionString))
        {
            await using var resumed = await SseTestClient.ConnectAsync(onOriginal.BaseAddress, lastEventId: offset);
            Assert.Equal("ao-3", (await resumed.ReadEventAsync()).Payload.GetProperty("id").GetString());
        }
        Assert.StartsWith(await db.EpochAsync() + "-", offset);
    }

    [Theory]
    [InlineData("system_identifier")] // a restore into another cluster (initdb gave it another identifier)
    [InlineData("database_oid")]      // a restore into another database of the cluster
    [InlineData("timeline")]          // a point-in-time recovery, or a standby promoted after a failover
    public async Task An_epoch_minted_elsewhere_is_renewed_at_the_next_start_and_once_only(string where)
    {
        await using var db = await TestDatabase.CreateAsync();
        var before = await db.EpochAsync();
        await using (var c = await db.DataSource.OpenConnectionAsync())
            await c.ExecuteAsync($"UPDATE eventhub_epoch SET {where} = {where}::bigint + 1000");

        await using (await HubServer.StartAsync(db.ConnectionString)) { }
        var renewed = await db.EpochAsync();
        Assert.NotEqual(before, renewed);
        Assert.Matches("^[0-9a-f]{10}$", renewed);

        await using (await HubServer.StartAsync(db.ConnectionString)) { }
        Assert.Equal(renewed, await db.EpochAsync()); // now it is where it was minted
    }
}
