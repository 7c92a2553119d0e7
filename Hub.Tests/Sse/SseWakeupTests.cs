using Dapper;
using EventHub.Log;
using EventHub.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace EventHub.Tests.Sse;

/// <summary>NOTIFY only wakes the tail: events still arrive when notifications are lost.</summary>
public sealed class SseWakeupTests
{
    [Fact]
    public async Task Events_arrive_by_polling_when_no_notification_ever_comes()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var hub = await HubServer.StartAsync(db.ConnectionString,
            new Dictionary<string, string?> { ["Stream:PollInterval"] = "00:00:00.200" },
            services: s => s.AddSingleton<IChangeNotifier>(new WakeupSignal())); // never signalled
        await using var sse = await SseTestClient.ConnectAsync(hub.BaseAddress);
        await db.Writer.SessionAsync("ao", 1);
        Assert.Equal("ao-1", (await sse.ReadEventAsync()).Payload.GetProperty("id").GetString());
    }

    [Fact]
    public async Task A_dropped_LISTEN_connection_is_reopened_and_nothing_is_lost()
    {
        await using var db = await TestDatabase.CreateAsync();
        // A long poll interval: delivery below relies on LISTEN being re-established.
        await using var hub = await HubServer.StartAsync(db.ConnectionString,
            new Dictionary<string, string?> { ["Stream:PollInterval"] = "00:01:00" });
        var notifier = hub.Get<PostgresChangeNotifier>();
        await TaskTimeouts.UntilAsync(() => notifier.IsListening);
        await using var sse = await SseTestClient.ConnectAsync(hub.BaseAddress);

        await using (var c = await db.DataSource.OpenConnectionAsync())
        {
            var killed = await c.ExecuteScalarAsync<int>("""
                SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                WHERE datname = current_database() AND application_name LIKE '% tail'
                  AND (query LIKE 'LISTEN%' OR query = 'SELECT 1') -- the listener's idle check, after 5 s without a notice
                """);
            Assert.Equal(1, killed);
        }
        await db.Writer.SessionAsync("ao", 1); // may be written while LISTEN is down
        Assert.Equal("ao-1", (await sse.ReadEventAsync()).Payload.GetProperty("id").GetString());
        await TaskTimeouts.UntilAsync(() => notifier.IsListening);
        await db.Writer.SessionAsync("ao", 2);
        Assert.Equal("ao-2", (await sse.ReadEventAsync()).Payload.GetProperty("id").GetString());
    }
}

/// <summary>The write-throughput mode: no NOTIFY from writers, the hub polls.</summary>
public sealed class PollOnlyModeTests
{
    [Fact]
    public async Task With_eventhub_notify_off_writers_send_no_notification_and_the_hub_still_delivers_by_polling()
    {
        await using var db = await TestDatabase.CreateAsync();
        var database = new Npgsql.NpgsqlConnectionStringBuilder(db.ConnectionString).Database;
        await db.Writer.ExecuteAsync($"ALTER DATABASE \"{database}\" SET eventhub.notify = 'off'");
        Npgsql.NpgsqlConnection.ClearAllPools(); // the setting applies to new sessions

        // A listener of our own proves that the writers no longer notify.
        await using var listener = await db.DataSource.OpenConnectionAsync();
        var notified = 0;
        listener.Notification += (_, _) => Interlocked.Increment(ref notified);
        await listener.ExecuteAsync("LISTEN eventhub_change_log");

        await using var hub = await HubServer.StartAsync(db.ConnectionString,
            new Dictionary<string, string?> { ["Stream:PollInterval"] = "00:00:00.020" });
        await using var sse = await SseTestClient.ConnectAsync(hub.BaseAddress);
        await db.Writer.SessionAsync("ao", 1);
        Assert.Equal("ao-1", (await sse.ReadEventAsync()).Payload.GetProperty("id").GetString());

        // Round-trip on the listener: any notification sent before this query has been received.
        await listener.ExecuteAsync("SELECT 1");
        Assert.Equal(0, notified);
    }
}
