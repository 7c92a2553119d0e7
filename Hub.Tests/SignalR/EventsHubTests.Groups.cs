using EventHub.Contracts;
using EventHub.SignalR;
using EventHub.Tests.Infrastructure;

namespace EventHub.Tests.SignalR;

public sealed partial class EventsHubTests
{
    [Fact]
    public async Task A_connection_gets_a_projects_notices_exactly_while_it_streams_that_project()
    {
        var x = fixture.NewProject("x");
        var y = fixture.NewProject("y");
        var tracker = fixture.Hub.Get<ProjectGroupTracker>();
        await using var client = await EventsHubClient.ConnectAsync(Hub, WireProtocol.MessagePack);
        var id = client.ConnectionId;

        // A stream of y stays open throughout: y's notices are the sentinels that prove x's absence.
        var onY = await client.StreamAsync([y], after: StreamEventsRequest.Beginning);
        await Writer.SessionAsync(y, 1);
        await onY.ReadAsync(); // groups are joined before the first event is sent
        Assert.True(tracker.IsMember(id, y));
        Assert.False(tracker.IsMember(id, x));

        await NoticeAsync(x, "before");
        await NoticeAsync(y, "sentinel-1");
        await AssertNextNoticeAsync(client, y, "sentinel-1");

        using var first = new CancellationTokenSource();
        using var second = new CancellationTokenSource();
        var x1 = await client.StreamAsync([x], after: StreamEventsRequest.Beginning, cancellationToken: first.Token);
        var x2 = await client.StreamAsync([x, y], after: StreamEventsRequest.Beginning, cancellationToken: second.Token);
        await Writer.SessionAsync(x, 1);
        await x1.ReadAsync();
        await x2.ReadAsync(2);
        Assert.Equal(2, tracker.StreamCount(id, x));

        await NoticeAsync(x, "while-streaming");
        await NoticeAsync(y, "sentinel-2");
        var notice = await client.ReadNoticeAsync();
        Assert.Equal((x, "test", "while-streaming"), (notice.ProjectId, notice.Kind, notice.Message));
        await AssertNextNoticeAsync(client, y, "sentinel-2"); // and x's came once, not once per stream

        // One of the two streams of x ends: still in the group.
        await first.CancelAsync();
        await x1.EndAsync();
        await TaskTimeouts.UntilAsync(() => tracker.StreamCount(id, x) == 1);
        await NoticeAsync(x, "one-left");
        await AssertNextNoticeAsync(client, x, "one-left");

        // The last one ends: out of x's group, still in y's (y had two streams, one remains).
        await second.CancelAsync();
        await x2.EndAsync();
        // LeaveAsync leaves x's group before it counts y down: wait for both, not the first alone.
        await TaskTimeouts.UntilAsync(() => !tracker.IsMember(id, x) && tracker.StreamCount(id, y) == 1);
        await NoticeAsync(x, "after");
        await NoticeAsync(y, "sentinel-3");
        await AssertNextNoticeAsync(client, y, "sentinel-3");

        // The connection drops: forgotten.
        await client.Connection.StopAsync().WithTimeout();
        await TaskTimeouts.UntilAsync(() => !tracker.IsMember(id, y));
        Assert.Equal(0, tracker.StreamCount(id, y));
    }

    private Task NoticeAsync(string project, string message) =>
        fixture.Hub.Get<ProjectNotices>()
            .SendAsync(new ProjectNotice { ProjectId = project, Kind = "test", Message = message, Offset = null })
            .WithTimeout();

    private static async Task AssertNextNoticeAsync(EventsHubClient client, string project, string message)
    {
        var notice = await client.ReadNoticeAsync();
        Assert.Equal((project, message), (notice.ProjectId, notice.Message));
    }
}
