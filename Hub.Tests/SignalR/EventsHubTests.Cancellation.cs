using EventHub.Contracts;
using EventHub.SignalR;
using EventHub.Streaming;
using EventHub.Tests.Infrastructure;

namespace EventHub.Tests.SignalR;

public sealed partial class EventsHubTests
{
    [Fact]
    public async Task Cancelling_a_stream_frees_its_subscription_and_group_and_the_connection_stays_usable()
    {
        var fanout = fixture.Hub.Get<IEventFanout>();
        var tracker = fixture.Hub.Get<ProjectGroupTracker>();
        // Streams of earlier tests end asynchronously once their connections close.
        await TaskTimeouts.UntilAsync(() => fanout.SubscriberCount == 0, because: "earlier tests left subscriptions");
        var p = fixture.NewProject();
        await using var client = await EventsHubClient.ConnectAsync(Hub);

        using var cts = new CancellationTokenSource();
        var stream = await client.StreamAsync([p], after: StreamEventsRequest.Beginning, cancellationToken: cts.Token);
        await Writer.SessionAsync(p, 1);
        await stream.ReadAsync();
        Assert.Equal(1, fanout.SubscriberCount);
        Assert.True(tracker.IsMember(client.ConnectionId, p));

        await cts.CancelAsync();
        Assert.IsAssignableFrom<OperationCanceledException>(await stream.EndAsync());
        await TaskTimeouts.UntilAsync(() => fanout.SubscriberCount == 0, because: "the cancelled stream kept its subscription");
        await TaskTimeouts.UntilAsync(() => !tracker.IsMember(client.ConnectionId, p), because: "the cancelled stream kept its group");

        var again = await client.StreamAsync([p], after: StreamEventsRequest.Beginning);
        Assert.Equal($"{p}-1", (await again.ReadAsync()).SessionId);
    }

    [Fact]
    public async Task Closing_the_connection_frees_its_streams_and_forgets_its_groups()
    {
        var fanout = fixture.Hub.Get<IEventFanout>();
        var tracker = fixture.Hub.Get<ProjectGroupTracker>();
        await TaskTimeouts.UntilAsync(() => fanout.SubscriberCount == 0, because: "earlier tests left subscriptions");
        var p = fixture.NewProject();
        var client = await EventsHubClient.ConnectAsync(Hub, WireProtocol.MessagePack);
        var id = client.ConnectionId;
        var one = await client.StreamAsync([p], after: StreamEventsRequest.Beginning);
        var two = await client.StreamAsync([p], after: StreamEventsRequest.Beginning);
        await Writer.SessionAsync(p, 1);
        await one.ReadAsync();
        await two.ReadAsync();
        Assert.Equal(2, tracker.StreamCount(id, p));

        await client.DisposeAsync();
        await TaskTimeouts.UntilAsync(() => fanout.SubscriberCount == 0, because: "a closed connection kept its subscriptions");
        await TaskTimeouts.UntilAsync(() => tracker.StreamCount(id, p) == 0, because: "a closed connection kept its groups");
    }
}
