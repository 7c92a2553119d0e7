using EventHub.Contracts;
using EventHub.Tests.Infrastructure;

namespace EventHub.Tests.SignalR;

public sealed partial class EventsHubTests
{
    [Theory]
    [InlineData(WireProtocol.Json)]
    [InlineData(WireProtocol.MessagePack)]
    public async Task A_client_that_reconnects_with_its_last_offset_gets_exactly_the_events_it_missed(WireProtocol protocol)
    {
        var p = fixture.NewProject();
        string last;
        List<ChangeEvent> seen;
        await using (var first = await EventsHubClient.ConnectAsync(Hub, protocol))
        {
            var stream = await first.StreamAsync([p], after: StreamEventsRequest.Beginning);
            var s1 = await Writer.SessionAsync(p, 1);
            await Writer.SessionActivityAsync(s1, "idle");
            seen = await stream.ReadAsync(2);
            last = seen[^1].Offset;
            await first.Connection.StopAsync().WithTimeout();
        }

        // Written while the client is away.
        await Writer.SessionActivityAsync($"{p}-1", "blocked");
        await Writer.SessionAsync(p, 2);
        await Writer.SessionActivityAsync($"{p}-2", "exited", terminated: true);

        await using var second = await EventsHubClient.ConnectAsync(Hub, protocol);
        var resumed = await second.StreamAsync([p], after: last);
        var missed = await resumed.ReadAsync(3);
        Assert.Equal(
            [(EventTypes.SessionUpdated, $"{p}-1", "blocked"), (EventTypes.SessionCreated, $"{p}-2", "active"),
             (EventTypes.SessionUpdated, $"{p}-2", "exited")],
            missed.Select(e => (e.Type, e.SessionId, e.Payload.GetProperty("activity").GetString())));
        Assert.Empty(missed.Select(e => e.Seq).Intersect(seen.Select(e => e.Seq)));

        // Nothing else was queued before the live feed: the next event is one written now.
        await Writer.SessionAsync(p, 3);
        var next = await resumed.ReadAsync();
        Assert.Equal((EventTypes.SessionCreated, $"{p}-3"), (next.Type, next.SessionId));
    }
}
