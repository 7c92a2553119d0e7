using System.Text.Json;
using EventHub.Contracts;
using EventHub.Tests.Infrastructure;

namespace EventHub.Tests.SignalR;

/// <summary>End to end: real PostgreSQL, the real hub on a loopback Kestrel port, the real SignalR client.</summary>
public sealed partial class EventsHubTests(EventsHubFixture fixture) : IClassFixture<EventsHubFixture>
{
    private SourceWriter Writer => fixture.Db.Writer;
    private Uri Hub => fixture.Hub.BaseAddress;

    [Theory]
    [InlineData(WireProtocol.Json)]
    [InlineData(WireProtocol.MessagePack)]
    public async Task A_row_written_to_each_source_table_reaches_a_live_stream_with_its_type_ids_and_payload(WireProtocol protocol)
    {
        var ao = fixture.NewProject("ao");
        await using var client = await EventsHubClient.ConnectAsync(Hub, protocol);
        // From the beginning of the log, not "from now": the SignalR client does not wait for the
        // server to open the stream, so a write right after StreamAsync could precede it. The
        // project is new, so its log is exactly what this test writes.
        var stream = await client.StreamAsync([ao], after: StreamEventsRequest.Beginning);
        var w = Writer;

        var s1 = await w.SessionAsync(ao, 1);
        var s2 = await w.SessionAsync(ao, 2);
        await w.SessionActivityAsync(s1, "waiting_input");
        var pr = await w.PrAsync(s1, 7);
        await w.PrStateAsync(pr, ci: "passing", review: "approved", mergeability: "mergeable");
        await w.PrSessionAsync(pr, s2);
        await w.CheckAsync(pr, "build", "abc123", "queued");
        await w.CheckAsync(pr, "build", "abc123", "passed");
        await w.ThreadAsync(pr, "T1", "src/a.cs", 42, isBot: true);
        await w.ResolveThreadAsync(pr, "T1");

        var events = await stream.ReadAsync(10);
        Assert.Equal(
            [EventTypes.SessionCreated, EventTypes.SessionCreated, EventTypes.SessionUpdated, EventTypes.PrCreated,
             EventTypes.PrUpdated, EventTypes.PrSessionChanged, EventTypes.PrCheckRecorded, EventTypes.PrCheckRecorded,
             EventTypes.PrReviewThreadAdded, EventTypes.PrReviewThreadResolved],
            events.Select(e => e.Type));
        Assert.Equal(EventTypes.All.Order(), events.Select(e => e.Type).Distinct().Order());

        foreach (var e in events)
        {
            Assert.Equal(ao, e.ProjectId);
            Assert.Equal(JsonValueKind.Object, e.Payload.ValueKind);
            Assert.True(e.Seq > 0);
            Assert.False(string.IsNullOrEmpty(e.Offset));
            // Unambiguous UTC: the offset is zero and the instant is now, not shifted by a zone.
            Assert.Equal(TimeSpan.Zero, e.CreatedAt.Offset);
            Assert.InRange(e.CreatedAt, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(1));
        }
        Assert.Equal(events.Count, events.Select(e => e.Offset).Distinct().Count());

        AssertPayload(events[0], $$"""{"id":"{{ao}}-1","activity":"active","isTerminated":false}""", session: s1);
        AssertPayload(events[1], $$"""{"id":"{{ao}}-2","activity":"active","isTerminated":false}""", session: s2);
        AssertPayload(events[2], $$"""{"id":"{{ao}}-1","activity":"waiting_input","isTerminated":false,"previewUrl":null,"previewRevision":0}""", session: s1);
        AssertPayload(events[3], $$"""{"url":"{{pr}}","session":"{{s1}}","state":"open","ci":"pending","review":"none","mergeability":"unknown"}""", session: s1);
        AssertPayload(events[4], $$"""{"url":"{{pr}}","session":"{{s1}}","state":"open","ci":"passing","review":"approved","mergeability":"mergeable"}""", session: s1);
        AssertPayload(events[5], $$"""{"url":"{{pr}}","fromSession":"{{s1}}","toSession":"{{s2}}"}""", session: s2);
        AssertPayload(events[6], $$"""{"pr":"{{pr}}","name":"build","commit":"abc123","status":"queued"}""", session: s2);
        AssertPayload(events[7], $$"""{"pr":"{{pr}}","name":"build","commit":"abc123","status":"passed"}""", session: s2);
        AssertPayload(events[8], $$"""{"pr":"{{pr}}","thread":"T1","path":"src/a.cs","line":42,"resolved":false,"isBot":true}""", session: s2);
        AssertPayload(events[9], $$"""{"pr":"{{pr}}","thread":"T1","path":"src/a.cs","line":42,"resolved":true}""", session: s2);

        // is_terminated alone is watched too.
        await w.SessionActivityAsync(s2, "active", terminated: true);
        AssertPayload(await stream.ReadAsync(), $$"""{"id":"{{ao}}-2","activity":"active","isTerminated":true,"previewUrl":null,"previewRevision":0}""", session: s2);
    }

    private static void AssertPayload(ChangeEvent e, string expectedJson, string session)
    {
        Assert.Equal(session, e.SessionId);
        var expected = JsonDocument.Parse(expectedJson).RootElement;
        var actual = e.Payload;
        Assert.Equal(JsonValueKind.Object, actual.ValueKind);
        Assert.Equal(
            expected.EnumerateObject().Select(p => p.Name).Order(),
            actual.EnumerateObject().Select(p => p.Name).Order());
        foreach (var p in expected.EnumerateObject())
            Assert.True(JsonElement.DeepEquals(p.Value, actual.GetProperty(p.Name)),
                $"{e.Type}.{p.Name}: expected {p.Value.GetRawText()}, got {actual.GetProperty(p.Name).GetRawText()}");
    }
}
