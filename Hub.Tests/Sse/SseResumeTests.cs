using EventHub.Tests.Infrastructure;

namespace EventHub.Tests.Sse;

/// <summary>Offsets over SSE: Last-Event-ID, after=, after=0 and "from now".</summary>
public sealed class SseResumeTests : IAsyncLifetime
{
    private TestDatabase _db = null!;
    private HubServer _hub = null!;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync(nameof(SseResumeTests));
        await _db.Writer.ProjectAsync("ao");
        _hub = await HubServer.StartAsync(_db.ConnectionString);
    }

    public async Task DisposeAsync()
    {
        await _hub.DisposeAsync();
        await _db.DisposeAsync();
    }

    [Fact]
    public async Task Resuming_with_Last_Event_ID_delivers_exactly_the_missed_events()
    {
        string lastSeen;
        await using (var first = await SseTestClient.ConnectAsync(_hub.BaseAddress))
        {
            for (var i = 1; i <= 3; i++) await _db.Writer.SessionAsync("ao", i);
            var seen = await first.ReadEventsAsync(3);
            lastSeen = seen[^1].Id!;
        }
        for (var i = 4; i <= 6; i++) await _db.Writer.SessionAsync("ao", i); // missed while away

        await using var resumed = await SseTestClient.ConnectAsync(_hub.BaseAddress, lastEventId: lastSeen);
        var missed = await resumed.ReadEventsAsync(3);
        Assert.Equal(["ao-4", "ao-5", "ao-6"], missed.Select(f => f.Payload.GetProperty("id").GetString()));

        // Then it is live, with nothing repeated in between.
        await _db.Writer.SessionAsync("ao", 7);
        Assert.Equal("ao-7", (await resumed.ReadEventAsync()).Payload.GetProperty("id").GetString());
    }

    [Fact]
    public async Task The_Last_Event_ID_header_wins_over_the_after_query()
    {
        for (var i = 1; i <= 4; i++) await _db.Writer.SessionAsync("ao", i);
        await using var all = await SseTestClient.ConnectAsync(_hub.BaseAddress, "after=0");
        var frames = await all.ReadEventsAsync(4);

        // A browser reconnects to the original URL (after=0) and adds the header.
        await using var resumed = await SseTestClient.ConnectAsync(_hub.BaseAddress, "after=0", lastEventId: frames[2].Id);
        await _db.Writer.SessionAsync("ao", 5);
        Assert.Equal(["ao-4", "ao-5"], (await resumed.ReadEventsAsync(2)).Select(f => f.Payload.GetProperty("id").GetString()));
    }

    [Fact]
    public async Task After_with_an_offset_resumes_and_after_zero_replays_the_whole_log()
    {
        for (var i = 1; i <= 5; i++) await _db.Writer.SessionAsync("ao", i);
        await using var all = await SseTestClient.ConnectAsync(_hub.BaseAddress, "after=0");
        var frames = await all.ReadEventsAsync(5);
        Assert.Equal(["ao-1", "ao-2", "ao-3", "ao-4", "ao-5"], frames.Select(f => f.Payload.GetProperty("id").GetString()));

        await using var fromSecond = await SseTestClient.ConnectAsync(_hub.BaseAddress, "after=" + Uri.EscapeDataString(frames[1].Id!));
        Assert.Equal(["ao-3", "ao-4", "ao-5"], (await fromSecond.ReadEventsAsync(3)).Select(f => f.Payload.GetProperty("id").GetString()));
    }

    [Fact]
    public async Task Without_an_offset_only_events_committed_from_now_on_arrive()
    {
        for (var i = 1; i <= 3; i++) await _db.Writer.SessionAsync("ao", i);
        await using var live = await SseTestClient.ConnectAsync(_hub.BaseAddress);
        await _db.Writer.SessionAsync("ao", 4);
        Assert.Equal("ao-4", (await live.ReadEventAsync()).Payload.GetProperty("id").GetString());
    }

    [Fact]
    public async Task A_stream_from_now_begins_with_an_id_from_which_a_drop_before_its_first_event_resumes_losing_nothing()
    {
        for (var i = 1; i <= 2; i++) await _db.Writer.SessionAsync("ao", i); // before now: never delivered
        string startId;
        using (var http = new HttpClient { BaseAddress = _hub.BaseAddress })
        using (var response = await http.GetAsync("/api/v1/events?project=ao", HttpCompletionOption.ResponseHeadersRead).WithTimeout())
        {
            // The first block as an EventSource reads it: an id and no data, so it takes the id as
            // its last event id and dispatches nothing.
            var body = await response.Content.ReadAsStreamAsync();
            var block = new System.Text.StringBuilder();
            var buffer = new byte[256];
            while (!block.ToString().Contains("\n\n"))
            {
                var read = await body.ReadAsync(buffer).AsTask().WithTimeout();
                Assert.NotEqual(0, read);
                block.Append(System.Text.Encoding.UTF8.GetString(buffer, 0, read));
            }
            var lines = block.ToString()[..block.ToString().IndexOf("\n\n", StringComparison.Ordinal)].Split('\n');
            Assert.DoesNotContain(lines, l => l.StartsWith("data:", StringComparison.Ordinal));
            startId = Assert.Single(lines, l => l.StartsWith("id: ", StringComparison.Ordinal))["id: ".Length..];
        } // dropped before its first event

        for (var i = 3; i <= 5; i++) await _db.Writer.SessionAsync("ao", i); // committed while it was away
        // The reconnect an EventSource makes: the original URL and the id as Last-Event-ID.
        await using var resumed = await SseTestClient.ConnectAsync(_hub.BaseAddress, "project=ao", lastEventId: startId);
        Assert.Equal(["ao-3", "ao-4", "ao-5"], (await resumed.ReadEventsAsync(3)).Select(f => f.Payload.GetProperty("id").GetString()));
    }

    [Fact]
    public async Task A_catch_up_longer_than_several_batches_and_the_live_buffer_arrives_whole_and_in_order()
    {
        // 3,000 events: more than six catch-up batches (500) and more than the live buffer (1,024).
        await _db.Writer.ExecuteAsync("""
            INSERT INTO sessions (id, project_id, num)
            SELECT 'ao-' || n, 'ao', n FROM generate_series(1, 3000) AS n
            """);
        await using var all = await SseTestClient.ConnectAsync(_hub.BaseAddress, "after=0");
        var frames = await all.ReadEventsAsync(3000);
        Assert.Equal(Enumerable.Range(1, 3000).Select(n => $"ao-{n}"), frames.Select(f => f.Payload.GetProperty("id").GetString()));
    }
}
