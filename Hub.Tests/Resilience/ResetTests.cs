using Dapper;
using System.Text.Json;
using EventHub.Retention;
using EventHub.Tests.Infrastructure;
using EventHub.Streaming.Internal;

namespace EventHub.Tests.Resilience;

/// <summary>Offsets the log can no longer serve get an explicit reset, never a silent gap.</summary>
public sealed class ResetTests
{
    /// <summary>An offset of another log: an epoch of this log's format (ten hex digits) that is not this log's.</summary>
    internal const string ForeignOffset = "feedc0de01.12345.67";

    [Fact]
    public async Task An_offset_from_another_log_gets_a_reset_frame_with_the_offset_to_continue_from()
    {
        await using var db = await TestDatabase.CreateAsync();
        await db.Writer.SessionAsync("ao", 1);
        var managementPort = EventHub.Storage.LoopbackPorts.Free();
        await using var hub = await HubServer.StartAsync(db.ConnectionString,
            new Dictionary<string, string?> { ["Management:Urls"] = $"http://127.0.0.1:{managementPort}" });
        await using var all = await SseTestClient.ConnectAsync(hub.BaseAddress, "after=0");
        var head = TickEndOf((await all.ReadEventAsync()).Id!);

        await using var foreign = await SseTestClient.ConnectAsync(hub.BaseAddress, lastEventId: ForeignOffset);
        var reset = await foreign.ReadEventAsync();
        Assert.Equal("reset", reset.Event);
        Assert.Equal("offset_from_another_log", reset.Json.GetProperty("reason").GetString());
        Assert.Equal(head, reset.Json.GetProperty("offset").GetString());
        Assert.Equal(head, reset.Id); // an EventSource reconnects from there by itself
        await Assert.ThrowsAsync<EndOfStreamException>(() => foreign.ReadEventAsync());

        // The reset is counted for operators (Prometheus scrape).
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{managementPort}") };
        var metrics = await http.GetStringAsync("/metrics").WithTimeout();
        Assert.Matches(@"eventhub_stream_resets(_total)?\{[^}]*reason=""offset_from_another_log""[^}]*transport=""sse""[^}]*\} [1-9]", metrics);

        // Continuing from the given offset works.
        await using var continued = await SseTestClient.ConnectAsync(hub.BaseAddress, lastEventId: reset.Id);
        await db.Writer.SessionAsync("ao", 2);
        Assert.Equal("ao-2", (await continued.ReadEventAsync()).Payload.GetProperty("id").GetString());
    }

    [Fact]
    public async Task A_reset_on_an_empty_log_gives_an_offset_the_hub_accepts_and_later_events_arrive()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var hub = await HubServer.StartAsync(db.ConnectionString);

        await using var foreign = await SseTestClient.ConnectAsync(hub.BaseAddress, lastEventId: ForeignOffset);
        var reset = await foreign.ReadEventAsync();
        Assert.Equal("reset", reset.Event);
        Assert.Equal(reset.Id, reset.Json.GetProperty("offset").GetString());

        // What an EventSource does next: reconnect with the reset's id as Last-Event-ID.
        await using var continued = await SseTestClient.ConnectAsync(hub.BaseAddress, lastEventId: reset.Id);
        await db.Writer.SessionAsync("ao", 1);
        Assert.Equal("ao-1", (await continued.ReadEventAsync()).Payload.GetProperty("id").GetString());
        // And the offset still names this log: another database would answer it with a reset.
        Assert.StartsWith(await db.EpochAsync() + "-", reset.Id);
    }

    /// <summary>The offset of the end of the tick that holds an event (what the hub's head is once it has published it).</summary>
    internal static string TickEndOf(string eventOffset) => eventOffset[..eventOffset.LastIndexOf('-')] + "-0";

    [Fact]
    public async Task After_a_restart_an_offset_pruned_by_retention_gets_a_reset_even_when_the_rest_of_the_log_fits_in_the_window()
    {
        await using var db = await TestDatabase.CreateAsync();
        var frames = await WriteThirtyAndReadThemAsync(db);

        // Retention (of another node, or of this one before the restart) keeps 10 events.
        await using (var pruning = await HubServer.StartAsync(db.ConnectionString, new Dictionary<string, string?>
        {
            ["Retention:MaxEvents"] = "10",
            ["Retention:Interval"] = "01:00:00",
        }))
            await UntilPrunedToTenAsync(db, null);

        // The restarted hub loads the 10 remaining events into a window that could hold 20,000.
        await using var hub = await HubServer.StartAsync(db.ConnectionString);
        await using (var old = await SseTestClient.ConnectAsync(hub.BaseAddress, lastEventId: frames[4].Id))
        {
            var reset = await old.ReadEventAsync();
            Assert.Equal("reset", reset.Event);
            Assert.Equal("offset_pruned", reset.Json.GetProperty("reason").GetString());
            Assert.Equal(TickEndOf(frames[^1].Id!), reset.Json.GetProperty("offset").GetString());
        }
        // The last pruned offset is still served (from memory), without a gap.
        var hits = hub.Get<RecentEventsWindow>().Hits;
        await using (var edge = await SseTestClient.ConnectAsync(hub.BaseAddress, lastEventId: frames[19].Id))
            Assert.Equal(frames.Skip(20).Select(f => f.Id), (await edge.ReadEventsAsync(10)).Select(f => f.Id));
        Assert.True(hub.Get<RecentEventsWindow>().Hits > hits);
    }

    [Theory]
    // Told by its retention service, which reads the mark each interval on every node (a busy
    // ticking node hands its ticks over and its tail reads nothing: no poll here)...
    [InlineData("00:00:00.200", "01:00:00")]
    // ...or by its tail's next read, which brings the mark with the rows.
    [InlineData("01:00:00", "00:00:00.200")]
    public async Task A_node_whose_window_held_what_retention_deleted_answers_as_a_node_started_after_the_prune(
        string retentionInterval, string pollInterval)
    {
        await using var db = await TestDatabase.CreateAsync();
        var frames = await WriteThirtyAndReadThemAsync(db);

        // This node loads all 30 events into its window, and serves an old offset from memory.
        await using var hub = await HubServer.StartAsync(db.ConnectionString, new Dictionary<string, string?>
        {
            ["Retention:Interval"] = retentionInterval, // retention off here; the mark is read each interval
            ["Stream:PollInterval"] = pollInterval,
        });
        await using (var before = await SseTestClient.ConnectAsync(hub.BaseAddress, lastEventId: frames[4].Id))
            Assert.Equal(frames[5].Id, (await before.ReadEventAsync()).Id);

        // Another node keeps 10 events. This one's window lets go of the 20 deleted ones: it
        // answered an offset among them from memory (and "0" from the first of them), where a node
        // started after the prune answers with a reset (and "0" with what remains).
        await using (var pruning = await HubServer.StartAsync(db.ConnectionString, new Dictionary<string, string?>
        {
            ["Retention:MaxEvents"] = "10",
            ["Retention:Interval"] = "01:00:00",
        }))
            await UntilPrunedToTenAsync(db, null);
        await TaskTimeouts.UntilAsync(() => hub.Get<RecentEventsWindow>().Count == 10, because: "the window still holds pruned events");

        await using (var old = await SseTestClient.ConnectAsync(hub.BaseAddress, lastEventId: frames[4].Id))
        {
            var reset = await old.ReadEventAsync();
            Assert.Equal("reset", reset.Event);
            Assert.Equal("offset_pruned", reset.Json.GetProperty("reason").GetString());
        }
        await using (var fromStart = await SseTestClient.ConnectAsync(hub.BaseAddress, "after=0"))
            Assert.Equal(frames.Skip(20).Select(f => f.Id), (await fromStart.ReadEventsAsync(10)).Select(f => f.Id));
        await using (var edge = await SseTestClient.ConnectAsync(hub.BaseAddress, lastEventId: frames[19].Id))
            Assert.Equal(frames.Skip(20).Select(f => f.Id), (await edge.ReadEventsAsync(10)).Select(f => f.Id));
    }

    [Fact]
    public async Task Retention_prunes_a_prefix_and_a_client_older_than_what_remains_gets_a_reset()
    {
        await using var db = await TestDatabase.CreateAsync();
        var frames = await WriteThirtyAndReadThemAsync(db);

        // A hub that keeps 10 events, with a window too small to hide the pruned ones.
        var logs = new LogSink();
        await using var hub = await HubServer.StartAsync(db.ConnectionString, new Dictionary<string, string?>
        {
            ["Retention:MaxEvents"] = "10",
            ["Retention:Interval"] = "01:00:00",
            ["Stream:RecentEventsWindowSize"] = "1",
        }, services: logs.AddTo);
        var retention = hub.Get<ChangeLogRetention>();
        await UntilPrunedToTenAsync(db, logs);
        Assert.Equal(0, await retention.PruneOnceAsync()); // nothing more to prune
        // Ticks are pruned with the log: the oldest kept is the one retention stopped in.
        await using (var c = await db.DataSource.OpenConnectionAsync())
            Assert.Equal(await c.ExecuteScalarAsync<long>("SELECT pruned_through_tick FROM eventhub_retention"),
                await c.ExecuteScalarAsync<long>("SELECT min(tick_id) FROM eventhub_tick"));

        // Older than what remains: reset, with this log's head to continue from.
        await using (var old = await SseTestClient.ConnectAsync(hub.BaseAddress, lastEventId: frames[4].Id))
        {
            var reset = await old.ReadEventAsync();
            Assert.Equal("reset", reset.Event);
            Assert.Equal("offset_pruned", reset.Json.GetProperty("reason").GetString());
            Assert.Equal(TickEndOf(frames[^1].Id!), reset.Json.GetProperty("offset").GetString());
        }
        // The last pruned offset itself is fine: nothing after it is missing.
        await using (var edge = await SseTestClient.ConnectAsync(hub.BaseAddress, lastEventId: frames[19].Id))
            Assert.Equal(frames.Skip(20).Select(f => f.Id), (await edge.ReadEventsAsync(10)).Select(f => f.Id));
        // "0" means what remains.
        await using (var fromStart = await SseTestClient.ConnectAsync(hub.BaseAddress, "after=0"))
            Assert.Equal(frames.Skip(20).Select(f => f.Id), (await fromStart.ReadEventsAsync(10)).Select(f => f.Id));
    }

    /// <summary>
    /// Waits for retention to leave 10 events; on a timeout the message shows what it pruned, the
    /// rows left and the ticks (once in a full CI run retention pruned all 30 rows, "through tick 2
    /// at (1005,30)", and it has not been reproduced since).
    /// </summary>
    private static async Task UntilPrunedToTenAsync(TestDatabase db, LogSink? logs)
    {
        try
        {
            await TaskTimeouts.UntilAsync(async () => await db.ChangeLogCountAsync() == 10);
        }
        catch (TimeoutException)
        {
            await using var c = await db.DataSource.OpenConnectionAsync();
            var rows = await c.QueryAsync<string>(
                "SELECT seq || ':' || tx_id || '@' || coalesce(eventhub_tick_of(tx_id)::text, '-') FROM change_log ORDER BY seq");
            var ticks = await c.QueryAsync<string>(
                "SELECT tick_id || ' lo ' || lo || ' hi ' || hi || ' ended ' || ended::text || ' snap ' || snap::text FROM eventhub_tick ORDER BY tick_id");
            var retention = await c.QuerySingleAsync<string>("SELECT row_to_json(r)::text FROM eventhub_retention r");
            throw new TimeoutException("retention did not prune to 10 events. Log: "
                + string.Join(" | ", logs?.Entries.Where(e => e.Category.Contains("Retention")).Select(e => e.Message + " " + e.Exception) ?? [])
                + $". Rows (seq:xid@tick): {string.Join(", ", rows)}. Ticks: {string.Join("; ", ticks)}. Retention: {retention}");
        }
    }

    /// <summary>Writes 30 sessions of project ao and returns their frames, read by a hub that then stops.</summary>
    private static async Task<List<SseFrame>> WriteThirtyAndReadThemAsync(TestDatabase db)
    {
        for (var i = 1; i <= 30; i++) await db.Writer.SessionAsync("ao", i);
        await using var first = await HubServer.StartAsync(db.ConnectionString);
        await using var sse = await SseTestClient.ConnectAsync(first.BaseAddress, "after=0");
        return await sse.ReadEventsAsync(30);
    }
}

/// <summary>The reset signal over the SignalR hub.</summary>
public sealed class HubResetTests
{
    [Theory]
    [InlineData(WireProtocol.Json)]
    [InlineData(WireProtocol.MessagePack)]
    public async Task An_offset_from_another_log_gets_a_reset_notice_and_a_stream_error_with_the_offset_to_continue_from(WireProtocol protocol)
    {
        await using var db = await TestDatabase.CreateAsync();
        await db.Writer.SessionAsync("ao", 1);
        await using var hub = await HubServer.StartAsync(db.ConnectionString);
        await using var client = await EventsHubClient.ConnectAsync(hub.BaseAddress, protocol);
        var head = ResetTests.TickEndOf((await (await client.StreamAsync(["ao"], after: "0")).ReadAsync()).Offset);

        var stream = await client.StreamAsync(["ao"], after: ResetTests.ForeignOffset);
        var notice = await client.ReadNoticeAsync();
        Assert.Equal(("ao", Contracts.ProjectNoticeKinds.Reset, head), (notice.ProjectId, notice.Kind, notice.Offset));
        var error = await stream.FailureAsync();
        Assert.Contains("reset: offset_from_another_log:", error.Message);
        Assert.Contains(head, error.Message);
    }

}
