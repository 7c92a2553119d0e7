using System.Text.Json;
using EventHub.Streaming;
using EventHub.Tests.Infrastructure;

namespace EventHub.Tests.Sse;

/// <summary>End to end: real PostgreSQL, the real hub on a loopback Kestrel port, a real SSE client.</summary>
public sealed class SseEndpointTests : IAsyncLifetime
{
    private TestDatabase _db = null!;
    private HubServer _hub = null!;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync(nameof(SseEndpointTests));
        _hub = await HubServer.StartAsync(_db.ConnectionString);
    }

    public async Task DisposeAsync()
    {
        await _hub.DisposeAsync();
        await _db.DisposeAsync();
    }

    [Fact]
    public async Task A_row_written_to_each_source_table_reaches_a_live_stream_with_its_type_ids_and_payload()
    {
        await using var sse = await SseTestClient.ConnectAsync(_hub.BaseAddress);
        var w = _db.Writer;

        var s1 = await w.SessionAsync("ao", 1);
        var s2 = await w.SessionAsync("ao", 2);
        await w.SessionActivityAsync(s1, "waiting_input");
        var pr = await w.PrAsync(s1, 7);
        await w.PrStateAsync(pr, ci: "passing", review: "approved", mergeability: "mergeable");
        await w.PrSessionAsync(pr, s2);
        await w.CheckAsync(pr, "build", "abc123", "queued");
        await w.CheckAsync(pr, "build", "abc123", "passed");
        await w.ThreadAsync(pr, "T1", "src/a.cs", 42, isBot: true);
        await w.ResolveThreadAsync(pr, "T1");

        var frames = await sse.ReadEventsAsync(10);
        Assert.Equal(
            ["session_created", "session_created", "session_updated", "pr_created", "pr_updated", "pr_session_changed",
             "pr_check_recorded", "pr_check_recorded", "pr_review_thread_added", "pr_review_thread_resolved"],
            frames.Select(f => f.Event));

        foreach (var f in frames)
        {
            Assert.Equal(f.Event, f.Type);
            Assert.Equal(f.Id, f.Json.GetProperty("offset").GetString());
            Assert.Equal("ao", f.ProjectId);
            Assert.Equal(JsonValueKind.Object, f.Payload.ValueKind);
            Assert.True(f.Json.GetProperty("seq").GetInt64() > 0);
            Assert.EndsWith("Z", f.Json.GetProperty("createdAt").GetString());
        }

        AssertPayload(frames[0], """{"id":"ao-1","activity":"active","isTerminated":false}""", session: "ao-1");
        AssertPayload(frames[2], """{"id":"ao-1","activity":"waiting_input","isTerminated":false,"previewUrl":null,"previewRevision":0}""", session: "ao-1");
        AssertPayload(frames[3], $$"""{"url":"{{pr}}","session":"ao-1","state":"open","ci":"pending","review":"none","mergeability":"unknown"}""", session: "ao-1");
        AssertPayload(frames[4], $$"""{"url":"{{pr}}","session":"ao-1","state":"open","ci":"passing","review":"approved","mergeability":"mergeable"}""", session: "ao-1");
        AssertPayload(frames[5], $$"""{"url":"{{pr}}","fromSession":"ao-1","toSession":"ao-2"}""", session: "ao-2");
        AssertPayload(frames[6], $$"""{"pr":"{{pr}}","name":"build","commit":"abc123","status":"queued"}""", session: "ao-2");
        AssertPayload(frames[7], $$"""{"pr":"{{pr}}","name":"build","commit":"abc123","status":"passed"}""", session: "ao-2");
        AssertPayload(frames[8], $$"""{"pr":"{{pr}}","thread":"T1","path":"src/a.cs","line":42,"resolved":false,"isBot":true}""", session: "ao-2");
        AssertPayload(frames[9], $$"""{"pr":"{{pr}}","thread":"T1","path":"src/a.cs","line":42,"resolved":true}""", session: "ao-2");
        // The 11th: terminate a session, proving is_terminated alone is watched.
        Assert.Equal("session_created", frames[1].Event);
        await w.SessionActivityAsync(s2, "active", terminated: true);
        var last = await sse.ReadEventAsync();
        AssertPayload(last, """{"id":"ao-2","activity":"active","isTerminated":true,"previewUrl":null,"previewRevision":0}""", session: "ao-2");
    }

    [Fact]
    public async Task The_response_is_an_event_stream_with_a_retry_hint_and_no_caching()
    {
        await using var sse = await SseTestClient.ConnectAsync(_hub.BaseAddress);
        Assert.Equal("text/event-stream", sse.ContentHeaders.ContentType?.MediaType);
        Assert.Contains("no-cache", sse.Headers.CacheControl?.ToString());
        Assert.Equal("no", sse.Headers.GetValues("X-Accel-Buffering").Single());
        await _db.Writer.SessionAsync("ao", 1);
        await sse.ReadEventAsync();
        Assert.Equal(2000, sse.Retry);
    }

    [Fact]
    public async Task A_client_that_disconnects_frees_its_subscription()
    {
        var fanout = _hub.Get<IEventFanout>();
        var before = fanout.SubscriberCount;
        var sse = await SseTestClient.ConnectAsync(_hub.BaseAddress, "project=ao");
        await TaskTimeouts.UntilAsync(() => fanout.SubscriberCount == before + 1);
        await sse.DisposeAsync();
        await TaskTimeouts.UntilAsync(() => fanout.SubscriberCount == before, because: "the subscription outlived its client");
    }

    private static void AssertPayload(SseFrame frame, string expectedJson, string session)
    {
        Assert.Equal(session, frame.Json.GetProperty("sessionId").GetString());
        var expected = JsonDocument.Parse(expectedJson).RootElement;
        var actual = frame.Payload;
        Assert.Equal(
            expected.EnumerateObject().Select(p => p.Name).Order(),
            actual.EnumerateObject().Select(p => p.Name).Order());
        foreach (var p in expected.EnumerateObject())
            Assert.True(JsonElement.DeepEquals(p.Value, actual.GetProperty(p.Name)),
                $"{frame.Event}.{p.Name}: expected {p.Value.GetRawText()}, got {actual.GetProperty(p.Name).GetRawText()}");
    }
}
