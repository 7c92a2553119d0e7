using EventHub.Contracts;
using EventHub.Log;
using EventHub.SignalR;
using EventHub.Tests.Infrastructure;

namespace EventHub.Tests.SignalR;

/// <summary>
/// Issue 9, point 3: a project notice published on one node reaches the project's group members on
/// every node, through PostgreSQL (pg_notify on <see cref="ProjectNotices.NoticeChannel"/>).
/// </summary>
public sealed class CrossNodeNoticeTests
{
    [Fact]
    public async Task A_notice_sent_on_node_A_reaches_a_group_member_on_node_B_and_only_the_projects_members()
    {
        await using var db = await TestDatabase.CreateAsync("cross_node_notice");
        await using var a = await HubServer.StartAsync(db.ConnectionString);
        await using var b = await HubServer.StartAsync(db.ConnectionString);
        await TaskTimeouts.UntilAsync(() => a.Get<PostgresChangeNotifier>().IsListening && b.Get<PostgresChangeNotifier>().IsListening,
            because: "a LISTEN connection did not come up");

        await using var onB = await EventsHubClient.ConnectAsync(b.BaseAddress, WireProtocol.MessagePack);
        await using var onA = await EventsHubClient.ConnectAsync(a.BaseAddress);
        var streamB = await onB.StreamAsync(["nx"], after: StreamEventsRequest.Beginning);
        var streamA = await onA.StreamAsync(["ny"], after: StreamEventsRequest.Beginning);
        await db.Writer.SessionAsync("nx", 1);
        await db.Writer.SessionAsync("ny", 1);
        await streamB.ReadAsync(); // groups are joined before the first event is sent
        await streamA.ReadAsync();

        // To nx (whose only member is on B), then ny (on A) as the sentinel that nothing else came.
        await a.Get<ProjectNotices>().SendAsync(new ProjectNotice { ProjectId = "nx", Kind = "test", Message = "from A", Offset = "7" }).WithTimeout();
        var notice = await onB.ReadNoticeAsync();
        Assert.Equal(("nx", "test", "from A", "7"), (notice.ProjectId, notice.Kind, notice.Message, notice.Offset));

        await b.Get<ProjectNotices>().SendAsync(new ProjectNotice { ProjectId = "ny", Kind = "test", Message = "from B" }).WithTimeout();
        var back = await onA.ReadNoticeAsync();
        Assert.Equal(("ny", "from B"), (back.ProjectId, back.Message));
        // Each node delivered once: B's member got no second copy of "from A" (the sentinel comes next).
        await a.Get<ProjectNotices>().SendAsync(new ProjectNotice { ProjectId = "nx", Kind = "test", Message = "sentinel" }).WithTimeout();
        Assert.Equal("sentinel", (await onB.ReadNoticeAsync()).Message);
    }

    [Fact]
    public async Task A_notice_too_large_for_pg_notify_is_refused_naming_the_limit()
    {
        await using var db = await TestDatabase.CreateAsync("cross_node_notice_size");
        await using var a = await HubServer.StartAsync(db.ConnectionString);
        var e = await Assert.ThrowsAsync<ArgumentException>(() => a.Get<ProjectNotices>()
            .SendAsync(new ProjectNotice { ProjectId = "p", Kind = "test", Message = new string('x', 9000) }).WithTimeout());
        Assert.Contains(ProjectNotices.MaxPayloadBytes.ToString(), e.Message);
    }
}
