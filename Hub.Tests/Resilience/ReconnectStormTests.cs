using EventHub.Streaming;
using EventHub.Tests.Infrastructure;
using EventHub.Streaming.Internal;

namespace EventHub.Tests.Resilience;

public sealed class ReconnectStormTests
{
    [Fact]
    public async Task After_a_hub_restart_clients_resuming_inside_the_recent_window_cost_no_catch_up_query()
    {
        await using var db = await TestDatabase.CreateAsync();
        for (var i = 1; i <= 60; i++) await db.Writer.SessionAsync("ao", i);
        await db.Writer.SessionAsync("web", 1);

        List<SseFrame> all;
        await using (var first = await HubServer.StartAsync(db.ConnectionString))
        await using (var sse = await SseTestClient.ConnectAsync(first.BaseAddress, "project=ao&after=0"))
            all = await sse.ReadEventsAsync(60);

        // The restarted hub fills its window with one query at start-up.
        await using var hub = await HubServer.StartAsync(db.ConnectionString,
            new Dictionary<string, string?>
            {
                ["Stream:RecentEventsWindowSize"] = "100",
                ["Limits:MaxConnectionsPerAddress"] = "2000", // every test client comes from 127.0.0.1
            });
        var window = hub.Get<RecentEventsWindow>();
        const int clients = 1000;
        var sessions = await Task.WhenAll(Enumerable.Range(0, clients).Select(async c =>
        {
            var from = c % 50; // nearby offsets
            await using var sse = await SseTestClient.ConnectAsync(hub.BaseAddress, "project=ao", lastEventId: all[from].Id);
            var got = await sse.ReadEventsAsync(59 - from);
            Assert.Equal(all.Skip(from + 1).Select(f => f.Id), got.Select(f => f.Id));
            return got.Count;
        }));

        Assert.Equal(clients, sessions.Length);
        Assert.Equal(0, window.Misses);          // no client's catch-up went to the database
        Assert.True(window.Hits >= clients);
    }

    [Fact]
    public async Task A_client_resuming_before_the_window_is_served_from_the_log()
    {
        await using var db = await TestDatabase.CreateAsync();
        for (var i = 1; i <= 30; i++) await db.Writer.SessionAsync("ao", i);
        await using var hub = await HubServer.StartAsync(db.ConnectionString,
            new Dictionary<string, string?> { ["Stream:RecentEventsWindowSize"] = "10" });
        // The head: once the hub has published the 30 events (written before it started, so in
        // its first tick), the window holds only the last 10.
        using (var http = new HttpClient { BaseAddress = hub.BaseAddress })
            await http.GetStringAsync("/api/v1/events/head").WithTimeout();
        await using var sse = await SseTestClient.ConnectAsync(hub.BaseAddress, "after=0");
        var frames = await sse.ReadEventsAsync(30);
        Assert.Equal(Enumerable.Range(1, 30).Select(i => $"ao-{i}"), frames.Select(f => f.Payload.GetProperty("id").GetString()));
        Assert.True(hub.Get<RecentEventsWindow>().Misses >= 1);
    }

    [Fact]
    public async Task Past_the_window_payload_bound_a_client_is_served_from_the_log_and_inside_it_from_memory()
    {
        await using var db = await TestDatabase.CreateAsync();
        for (var i = 1; i <= 30; i++) await db.Writer.SessionAsync("ao", i);
        // session_created's payload is ~60 bytes: the window holds about the last ten, well
        // under its count (the default, 20,000).
        await using var hub = await HubServer.StartAsync(db.ConnectionString,
            new Dictionary<string, string?> { ["Stream:RecentEventsWindowPayloadBytes"] = "600" });
        using (var http = new HttpClient { BaseAddress = hub.BaseAddress })
            await http.GetStringAsync("/api/v1/events/head").WithTimeout();
        var window = hub.Get<RecentEventsWindow>();
        Assert.InRange(window.PayloadBytes, 1, 600);
        Assert.InRange(window.Count, 5, 15);

        List<SseFrame> all;
        await using (var sse = await SseTestClient.ConnectAsync(hub.BaseAddress, "after=0"))
            all = await sse.ReadEventsAsync(30);
        Assert.Equal(Enumerable.Range(1, 30).Select(i => $"ao-{i}"), all.Select(f => f.Payload.GetProperty("id").GetString()));
        Assert.Equal(1, window.Misses);

        await using (var sse = await SseTestClient.ConnectAsync(hub.BaseAddress, "project=ao", lastEventId: all[27].Id))
            Assert.Equal(all.Skip(28).Select(f => f.Id), (await sse.ReadEventsAsync(2)).Select(f => f.Id));
        Assert.Equal(1, window.Misses);
    }
}
