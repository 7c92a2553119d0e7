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
                WHERE datname = current_database() AND query LIKE 'LISTEN%'
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
