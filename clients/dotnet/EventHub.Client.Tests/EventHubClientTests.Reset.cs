using EventHub.Client.Tests.Infrastructure;
using EventHub.Contracts;
using EventHub.Tests.Infrastructure;
using Microsoft.Extensions.Logging;
using static EventHub.Client.EventHubConnectionState;

namespace EventHub.Client.Tests;

public sealed partial class EventHubClientTests
{
    [Theory]
    [InlineData(EventHubProtocol.Json)]
    [InlineData(EventHubProtocol.MessagePack)]
    public async Task An_offset_from_another_log_is_surfaced_as_a_reset_item_and_the_stream_continues_from_its_offset(EventHubProtocol protocol)
    {
        var p = fixture.NewProject("reset");
        await Writer.SessionAsync(p, 1); // before the reset: the app must refetch it, the stream will not send it
        // The reset continues from the hub's head: wait until the hub has published session 1.
        string head;
        await using (var witness = new ClientReader(NewClient(p, protocol)))
            head = (await witness.ReadAsync(1))[0].Offset;
        var foreignOffset = await ForeignLog.OffsetAsync(); // another database's: opaque, whatever its format
        await using var reader = new ClientReader(NewClient(p, protocol, after: foreignOffset));

        var reset = Assert.IsType<StreamReset>(Assert.Single(await reader.ReadAsync(1)));
        Assert.Equal(StreamReset.Reasons.OffsetFromAnotherLog, reset.Reason);
        Assert.Equal(foreignOffset, reset.PreviousOffset);
        Assert.Equal([p], reset.Projects);
        Assert.Equal(reset.ContinueFrom, reset.Offset);
        Assert.Equal(StreamReset.EventType, reset.Type);
        Assert.Equal(StreamReset.Reasons.OffsetFromAnotherLog, reset.Payload.GetProperty("reason").GetString());
        // This log's head: the end of the tick of session 1, its last event (tests of a class run one at a time).
        Assert.Equal(head[..head.LastIndexOf('-')] + "-0", reset.ContinueFrom);
        Assert.Equal(reset.ContinueFrom, reader.Client.LastOffset);

        // The stream goes on after the given offset, on the same connection: no error state.
        await Writer.SessionAsync(p, 2);
        await Writer.SessionAsync(p, 3);
        var after = await reader.ReadAsync(2);
        Assert.Equal([$"{p}-2", $"{p}-3"], after.Select(e => e.SessionId));
        Assert.All(after, e => Assert.IsType<SessionCreated>(e));
        Assert.False(reader.HasUnreadEvent);
        Assert.Equal(0, reader.Client.DuplicatesDropped); // the hub sent nothing twice (the client would drop and count it)
        Assert.Equal([Connecting, Live], reader.States);
        Assert.False(reader.Completion.IsCompleted);
    }

    [Theory]
    [InlineData(EventHubProtocol.Json)]
    [InlineData(EventHubProtocol.MessagePack)]
    public async Task A_reset_raises_the_hubs_project_notice_and_logs_no_error(EventHubProtocol protocol)
    {
        // The hub also tells the connection about a reset with a ProjectNotice; without a handler
        // SignalR logged each one as an error with a stack trace ("failed to bind arguments").
        var p = fixture.NewProject("notice");
        var logs = new LogSink();
        using var loggerFactory = LoggerFactory.Create(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Trace));
        var client = new EventHubClient(new EventHubClientOptions
        {
            HubUrl = fixture.Hub.BaseAddress, Projects = [p], StartAfter = await ForeignLog.OffsetAsync(), Protocol = protocol,
            ReconnectPolicy = FastPolicy, LoggerFactory = loggerFactory,
        });
        var notice = new TaskCompletionSource<ProjectNotice>(TaskCreationOptions.RunContinuationsAsynchronously);
        client.ProjectNoticeReceived += (_, n) => notice.TrySetResult(n);
        await using var reader = new ClientReader(client);

        var reset = Assert.IsType<StreamReset>(Assert.Single(await reader.ReadAsync(1)));
        var received = await notice.Task.WithTimeout();
        Assert.Equal((p, ProjectNoticeKinds.Reset, reset.ContinueFrom), (received.ProjectId, received.Kind, received.Offset));
        // The client's own warning about the reset stays (the application must refetch); nothing else.
        var warnings = logs.Entries.Where(e => e.Level >= LogLevel.Error || (e.Level >= LogLevel.Warning && e.Category != typeof(EventHubClient).FullName))
            .Select(e => $"{e.Category}: {e.Message}").ToList();
        Assert.True(warnings.Count == 0, string.Join('\n', warnings));
    }

    [Fact]
    public async Task From_now_streams_after_the_head_offset_so_a_drop_before_the_first_event_loses_nothing()
    {
        var p = fixture.NewProject("now");
        // A port below the ephemeral range: the kernel could hand one of that range, once freed, to any
        // connection made before the second hub binds it (LoopbackPorts says more).
        var first = await ClientHubFixture.StartHubAsync(fixture.Db.ConnectionString, port: EventHub.Storage.LoopbackPorts.Free());
        var port = first.BaseAddress.Port;
        HubServer? second = null;
        try
        {
            await Writer.SessionAsync(p, 1); // before "now": not delivered
            await using var reader = new ClientReader(NewClient(p, after: null, hub: first.BaseAddress));
            await reader.WaitForStateAsync(Live);
            var head = reader.Client.LastOffset;
            Assert.NotNull(head); // "now" became a fixed offset before the stream opened

            // The server drops the connection before any event; events are committed while no hub runs.
            await first.DisposeAsync();
            await reader.WaitForStateAsync(Reconnecting);
            await Writer.SessionAsync(p, 2);
            await Writer.SessionAsync(p, 3);
            second = await ClientHubFixture.StartHubAsync(fixture.Db.ConnectionString, port: port);
            await reader.WaitForStateAsync(Live);
            await Writer.SessionAsync(p, 4);

            var received = await reader.ReadAsync(3);
            Assert.Equal([$"{p}-2", $"{p}-3", $"{p}-4"], received.Select(e => e.SessionId));
            Assert.False(reader.HasUnreadEvent);
        }
        finally
        {
            if (second is not null) await second.DisposeAsync();
            else await first.DisposeAsync();
        }
    }
}
