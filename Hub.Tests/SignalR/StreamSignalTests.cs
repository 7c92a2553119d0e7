using System.Threading.Channels;
using EventHub.Contracts;
using EventHub.Tests.Infrastructure;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;

namespace EventHub.Tests.SignalR;

/// <summary>
/// Resets and stream errors reach a SignalR client that asks for them as data: a final
/// <see cref="StreamSignal"/> item, then a clean completion (docs/signalr.md). A client that does
/// not ask gets the HubException it always got.
/// </summary>
public sealed class StreamSignalTests(EventsHubFixture fixture) : IClassFixture<EventsHubFixture>
{
    [Theory]
    [InlineData(WireProtocol.Json)]
    [InlineData(WireProtocol.MessagePack)]
    public async Task A_reset_arrives_as_a_final_reset_item_with_the_offset_to_continue_from_then_the_stream_completes(WireProtocol protocol)
    {
        var p = fixture.NewProject("reset");
        await fixture.Db.Writer.SessionAsync(p, 1); // the log's last event (tests of a class run one at a time)
        var foreign = await ForeignLog.OffsetAsync();
        await using var client = await EventsHubClient.ConnectAsync(fixture.Hub.BaseAddress, protocol);
        // The reset continues from this log's head: once the hub has published p-1, the end of p-1's tick.
        var head = EventHub.Tests.Resilience.ResetTests.TickEndOf((await (await client.StreamAsync([p], after: "0")).ReadAsync()).Offset);

        var (items, error) = await ReadToEndAsync(client, new StreamEventsRequest { Projects = [p], After = foreign, SignalItems = true });

        Assert.Null(error);
        var item = Assert.Single(items);
        Assert.True(StreamSignal.TryRead(item, out var signal), $"not a signal item: {item}");
        Assert.True(signal.IsReset);
        Assert.Equal((StreamSignalTypes.Reset, ErrorCodes.OffsetFromAnotherLog, head), (item.Type, signal.Code, signal.Offset));
        Assert.Equal(head, item.Offset);
        Assert.NotEmpty(signal.Message);
    }

    [Theory]
    [InlineData(WireProtocol.Json)]
    [InlineData(WireProtocol.MessagePack)]
    public async Task A_refused_request_arrives_as_a_stream_error_item_with_its_code_then_the_stream_completes(WireProtocol protocol)
    {
        await using var client = await EventsHubClient.ConnectAsync(fixture.Hub.BaseAddress, protocol);

        var (items, error) = await ReadToEndAsync(client, new StreamEventsRequest { After = "not-an-offset", SignalItems = true });

        Assert.Null(error);
        var item = Assert.Single(items);
        Assert.True(StreamSignal.TryRead(item, out var signal), $"not a signal item: {item}");
        Assert.False(signal.IsReset);
        Assert.Equal((StreamSignalTypes.StreamError, ErrorCodes.InvalidOffset), (item.Type, signal.Code));
        Assert.Contains("not-an-offset", signal.Message);
        Assert.Equal("stream_error", item.Type);
        Assert.Equal(ErrorCodes.InvalidOffset, item.Payload.GetProperty("error").GetProperty("code").GetString()); // the SSE frame's data
    }

    [Theory]
    [InlineData(WireProtocol.Json)]
    [InlineData(WireProtocol.MessagePack)]
    public async Task A_stream_whose_token_expires_ends_with_its_events_then_a_token_expired_item(WireProtocol protocol)
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var hub = await HubServer.StartAsync(db.ConnectionString, TestTokens.TokenModeSettings());
        await db.Writer.SessionAsync("ao", 1);
        // exp has whole seconds: 3-4 s, room for the connection and the catch-up on a loaded machine.
        var token = TestTokens.Mint(["ao"], TimeSpan.FromSeconds(4));
        await using var client = await EventsHubClient.ConnectAsync(hub.BaseAddress, protocol, () => Task.FromResult<string?>(token));

        var (items, error) = await ReadToEndAsync(client, new StreamEventsRequest { Projects = ["ao"], After = "0", SignalItems = true });

        Assert.Null(error);
        Assert.Equal(2, items.Count);
        Assert.Equal("ao-1", items[0].SessionId);
        Assert.True(StreamSignal.TryRead(items[1], out var signal), $"not a signal item: {items[1]}");
        Assert.Equal((StreamSignalTypes.StreamError, ErrorCodes.TokenExpired), (signal.Type, signal.Code));
    }

    [Theory]
    [InlineData(WireProtocol.Json)]
    [InlineData(WireProtocol.MessagePack)]
    public async Task A_client_that_does_not_ask_for_signal_items_gets_the_HubException_it_always_got(WireProtocol protocol)
    {
        await using var client = await EventsHubClient.ConnectAsync(fixture.Hub.BaseAddress, protocol);

        var (items, error) = await ReadToEndAsync(client, new StreamEventsRequest { After = "not-an-offset" });

        Assert.Empty(items);
        var hub = Assert.IsType<HubException>(error);
        Assert.Contains("invalid_offset: ", hub.Message);
    }

    /// <summary>Every item of the stream until it ends, and the error it ended with (null: completed).</summary>
    private static async Task<(List<ChangeEvent> Items, Exception? Error)> ReadToEndAsync(EventsHubClient client, StreamEventsRequest request)
    {
        ChannelReader<ChangeEvent> reader;
        try
        {
            reader = await client.Connection.StreamAsChannelAsync<ChangeEvent>(EventHubMethods.StreamEvents, request).WithTimeout();
        }
        catch (HubException e)
        {
            return ([], e);
        }
        return await TestEventStream.ReadToEndAsync(reader);
    }
}
