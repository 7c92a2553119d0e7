using EventHub.Contracts;
using EventHub.Tests.Infrastructure;

namespace EventHub.Tests.SignalR;

public sealed partial class EventsHubTests
{
    [Fact]
    public async Task A_stream_gets_only_the_projects_and_types_it_asked_for()
    {
        var a = fixture.NewProject("a");
        var b = fixture.NewProject("b");
        await using var client = await EventsHubClient.ConnectAsync(Hub);
        var stream = await client.StreamAsync([a], [EventTypes.SessionFamily], after: StreamEventsRequest.Beginning);

        await Writer.SessionAsync(b, 1);                             // another project
        var sa = await Writer.SessionAsync(a, 1);                    // wanted
        var pr = await Writer.PrAsync(sa, 1);                        // another type
        await Writer.CheckAsync(pr, "build", "c1", "queued");        // another type
        await Writer.SessionActivityAsync($"{b}-1", "idle");         // another project, wanted type
        await Writer.SessionActivityAsync(sa, "idle");               // wanted: the sentinel

        var events = await stream.ReadAsync(2);
        Assert.Equal([(EventTypes.SessionCreated, sa), (EventTypes.SessionUpdated, sa)], events.Select(e => (e.Type, e.SessionId)));
    }

    [Fact]
    public async Task Two_streams_on_one_connection_each_get_only_their_own_project_and_end_independently()
    {
        var a = fixture.NewProject("a");
        var b = fixture.NewProject("b");
        await using var client = await EventsHubClient.ConnectAsync(Hub);
        using var cancelA = new CancellationTokenSource();
        var onA = await client.StreamAsync([a], after: StreamEventsRequest.Beginning, cancellationToken: cancelA.Token);
        var onB = await client.StreamAsync([b], after: StreamEventsRequest.Beginning);

        await Writer.SessionAsync(a, 1);
        await Writer.SessionAsync(b, 1);
        await Writer.SessionAsync(a, 2);
        await Writer.SessionAsync(b, 2);
        Assert.Equal([$"{a}-1", $"{a}-2"], (await onA.ReadAsync(2)).Select(e => e.SessionId));
        Assert.Equal([$"{b}-1", $"{b}-2"], (await onB.ReadAsync(2)).Select(e => e.SessionId));

        await cancelA.CancelAsync();
        await onA.EndAsync();
        await Writer.SessionAsync(a, 3);
        await Writer.SessionAsync(b, 3);
        Assert.Equal($"{b}-3", (await onB.ReadAsync()).SessionId);
    }
}
