using EventHub.Streaming;
using EventHub.Tests.Infrastructure;

namespace EventHub.Tests.Resilience;

/// <summary>
/// Subscribers that stop reading for a while: their memory stays bounded (the live buffer is
/// small here), they fall back to the log and then get every event exactly once, in order, and
/// the other subscribers of the project are not held up meanwhile.
/// </summary>
public sealed class SlowConsumerTests : IAsyncLifetime
{
    // Enough ~400-byte frames to fill the socket buffers between a stalled client and the hub.
    private const int Events = 20_000;
    private TestDatabase _db = null!;
    private HubServer _hub = null!;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync(nameof(SlowConsumerTests));
        await _db.Writer.ProjectAsync("ao");
        _hub = await HubServer.StartAsync(_db.ConnectionString,
            new Dictionary<string, string?> { ["Stream:SubscriberBufferCapacity"] = "16" });
    }

    public async Task DisposeAsync()
    {
        await _hub.DisposeAsync();
        await _db.DisposeAsync();
    }

    private async Task WriteEventsAsync()
    {
        for (var batch = 0; batch < 4; batch++)
            await _db.Writer.ExecuteAsync("""
                INSERT INTO change_log (project_id, event_type, payload)
                SELECT 'ao', 'pr_updated', jsonb_build_object('n', g, 'pad', repeat('x', 300))
                FROM generate_series(@from, @to) AS g
                """, new { from = batch * (Events / 4) + 1, to = (batch + 1) * (Events / 4) });
    }

    [Fact]
    public async Task A_stalled_SSE_subscriber_catches_up_from_the_log_and_others_are_not_held_up()
    {
        var fanout = _hub.Get<IEventFanout>();
        await using var slow = await SseTestClient.ConnectAsync(_hub.BaseAddress, "project=ao"); // then reads nothing
        await using var fast = await SseTestClient.ConnectAsync(_hub.BaseAddress, "project=ao");

        await WriteEventsAsync();
        var fastFrames = await fast.ReadEventsAsync(Events, TimeSpan.FromSeconds(60));
        Assert.Equal(Enumerable.Range(1, Events), fastFrames.Select(f => f.Payload.GetProperty("n").GetInt32()));
        await TaskTimeouts.UntilAsync(() => fanout.LaggedTotal > 0, because: "the stalled subscriber never overflowed its buffer");

        var slowFrames = await slow.ReadEventsAsync(Events, TimeSpan.FromSeconds(60));
        Assert.Equal(fastFrames.Select(f => f.Id), slowFrames.Select(f => f.Id));
    }

    [Fact]
    public async Task A_stalled_SignalR_subscriber_catches_up_from_the_log_and_others_are_not_held_up()
    {
        var fanout = _hub.Get<IEventFanout>();
        var lagBefore = fanout.LaggedTotal;
        // A raw WebSocket speaking the SignalR JSON protocol: the .NET client would keep reading
        // (it buffers stream items without bound), so only a raw socket can really stall.
        await using var slow = await RawHubSocket.ConnectAsync(_hub.BaseAddress);
        await slow.SendTextAsync("""{"type":4,"invocationId":"1","target":"StreamEvents","arguments":[{"projects":["ao"],"after":null}]}""" + RawHubSocket.RecordSeparator);
        await using var fast = await SseTestClient.ConnectAsync(_hub.BaseAddress, "project=ao");
        // The stream is open once the fan-out counts it (SignalR sends nothing until the first item).
        await TaskTimeouts.UntilAsync(() => fanout.SubscriberCount >= 2);

        await WriteEventsAsync();
        var fastFrames = await fast.ReadEventsAsync(Events, TimeSpan.FromSeconds(60));
        await TaskTimeouts.UntilAsync(() => fanout.LaggedTotal > lagBefore, because: "the stalled subscriber never overflowed its buffer");

        var offsets = await slow.ReceiveItemOffsetsAsync(Events); // stream items only, never a completion or an error
        Assert.Equal(fastFrames.Select(f => f.Id), offsets);
    }
}
