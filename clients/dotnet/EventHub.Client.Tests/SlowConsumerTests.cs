using EventHub.Client.Tests.Infrastructure;
using EventHub.Tests.Infrastructure;
using Xunit.Abstractions;

namespace EventHub.Client.Tests;

/// <summary>
/// An application that reads its stream slower than the hub sends it (here: not at all for a while,
/// during a catch-up of 20,000 events of ~2 KB). SignalR's client takes in whatever the hub sends, so the
/// client pauses the stream once <see cref="EventHubClientOptions.MaxBufferedEvents"/> events are
/// unread: the hub's stream ends long before it has sent the log, and once the application reads
/// again it gets every event once, in order, from a stream opened again after the last one.
/// </summary>
public sealed class SlowConsumerTests(ITestOutputHelper output)
{
    private const int Events = 20_000;

    [Fact]
    public async Task A_consumer_that_stops_reading_pauses_its_stream_and_then_gets_every_event_once_in_order()
    {
        await using var db = await TestDatabase.CreateAsync("slowconsumer");
        await db.Writer.ProjectAsync("slow");
        await db.Writer.ExecuteAsync("""
            INSERT INTO change_log (project_id, event_type, payload)
            SELECT 'slow', 'pr_updated', jsonb_build_object('n', g, 'pad', repeat('x', 2000)) FROM generate_series(1, @events) AS g
            """, new { events = Events });
        var managementPort = HubProcess.FreePort();
        await using var hub = await HubProcess.StartAsync(db.ConnectionString, HubProcess.FreePort(),
            new Dictionary<string, string> { ["Management__Urls"] = $"http://127.0.0.1:{managementPort}" });
        await using var client = new EventHubClient(new EventHubClientOptions
        {
            HubUrl = hub.BaseAddress, Projects = ["slow"], StartAfter = "0", MaxBufferedEvents = 500,
        });
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{managementPort}"), Timeout = TimeSpan.FromSeconds(10) };
        string Scrape() => http.GetStringAsync("/metrics").GetAwaiter().GetResult();

        await using var events = client.ReadAllAsync().GetAsyncEnumerator();
        Assert.True(await events.MoveNextAsync().AsTask().WithTimeout());
        var ns = new List<int> { events.Current.Payload.GetProperty("n").GetInt32() };

        // The application reads nothing now. The client's buffer fills and it cancels the stream:
        // the hub's stream ends, on a connection that stays open.
        var scrape = "";
        await TaskTimeouts.UntilAsync(() =>
        {
            scrape = Scrape();
            return MetricsTests.Value(scrape, "eventhub_streams_active", "transport=\"signalr\"") == 0;
        }, because: "the hub went on streaming to a client whose application reads nothing");
        Assert.Equal(1, MetricsTests.Value(scrape, "eventhub_connections", "transport=\"signalr\""));
        var sent = MetricsTests.Value(scrape, "eventhub_events_delivered_total", "transport=\"signalr\"");
        output.WriteLine($"the hub had sent {sent} events when the stream was paused");
        Assert.True(sent < Events / 2, $"the hub had sent {sent} of {Events} events when the stream was paused");

        while (ns.Count < Events)
        {
            Assert.True(await events.MoveNextAsync().AsTask().WithTimeout());
            ns.Add(events.Current.Payload.GetProperty("n").GetInt32());
        }
        Assert.Equal(Enumerable.Range(1, Events), ns); // every event once, in order, across the pauses
        Assert.Equal(0, client.DuplicatesDropped);
        Assert.Equal(EventHubConnectionState.Live, client.State);
    }
}
