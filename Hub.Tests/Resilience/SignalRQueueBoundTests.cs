using EventHub.SignalR.Internal;
using EventHub.Streaming;
using EventHub.Tests.Infrastructure;

namespace EventHub.Tests.Resilience;

/// <summary>
/// A stalled SignalR client of large events: what its stream queues for SignalR's sender stays
/// within <c>SignalR:StreamChannelPayloadBytes</c> (not 128 events of 100 KB), the stream falls
/// back to the log, the client then gets every event once in order, and streams that ended (read
/// to their end, or abandoned) are no longer counted in <c>eventhub.signalr.queued.bytes</c>.
/// </summary>
public sealed class SignalRQueueBoundTests : IAsyncLifetime
{
    // Enough 100 KB events to fill the socket buffers between a stalled client and the hub (a few
    // MB on loopback) and a queue of 128 of them (12.8 MB), as the queue was before its byte bound.
    private const int Events = 300;
    private const int Pad = 100_000;
    private const long QueueBytes = 500_000;
    private TestDatabase _db = null!;
    private HubServer _hub = null!;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync(nameof(SignalRQueueBoundTests));
        await _db.Writer.ProjectAsync("ao");
        _hub = await HubServer.StartAsync(_db.ConnectionString, new Dictionary<string, string?>
        {
            ["Stream:SubscriberBufferCapacity"] = "16",
            ["SignalR:StreamChannelPayloadBytes"] = QueueBytes.ToString(),
        });
    }

    public async Task DisposeAsync()
    {
        await _hub.DisposeAsync();
        await _db.DisposeAsync();
    }

    [Fact]
    public async Task A_stalled_stream_of_large_events_queues_at_most_its_payload_bound_and_then_gets_every_event()
    {
        var fanout = _hub.Get<IEventFanout>();
        var queues = _hub.Get<StreamQueueTotals>();
        var lagBefore = fanout.LaggedTotal;
        var slow = await RawHubSocket.ConnectAsync(_hub.BaseAddress);
        await using var abandoned = await RawHubSocket.ConnectAsync(_hub.BaseAddress); // never reads, then goes
        const string Stream = """{"type":4,"invocationId":"1","target":"StreamEvents","arguments":[{"projects":["ao"],"after":null}]}""";
        await slow.SendTextAsync(Stream + RawHubSocket.RecordSeparator);
        await abandoned.SendTextAsync(Stream + RawHubSocket.RecordSeparator);
        await using var fast = await SseTestClient.ConnectAsync(_hub.BaseAddress, "project=ao");
        await TaskTimeouts.UntilAsync(() => fanout.SubscriberCount >= 3); // SignalR sends nothing before the first item

        for (var batch = 0; batch < 3; batch++)
            await _db.Writer.ExecuteAsync("""
                INSERT INTO change_log (project_id, event_type, payload)
                SELECT 'ao', 'pr_updated', jsonb_build_object('n', g, 'pad', repeat('x', @pad))
                FROM generate_series(@from, @to) AS g
                """, new { pad = Pad, from = batch * (Events / 3) + 1, to = (batch + 1) * (Events / 3) });
        var fastFrames = await fast.ReadEventsAsync(Events, TimeSpan.FromSeconds(60));
        Assert.Equal(Enumerable.Range(1, Events), fastFrames.Select(f => f.Payload.GetProperty("n").GetInt32()));
        // Both stalled streams overflowed their live buffers: their pumps wait on full queues.
        await TaskTimeouts.UntilAsync(() => fanout.LaggedTotal >= lagBefore + 2, because: "the stalled streams never overflowed their buffers");

        // Each queue holds at most its bound past its first event (one event is ~100 KB).
        var queued = queues.QueuedBytes;
        Assert.InRange(queued, 1, 2 * (QueueBytes + Pad + 100));

        await abandoned.DisposeAsync();
        var offsets = await slow.ReceiveItemOffsetsAsync(Events); // stream items only, never a completion or an error
        Assert.Equal(fastFrames.Select(f => f.Id), offsets);
        await slow.DisposeAsync();
        // Read to its end, or never to be read: neither stream's queue is kept any more.
        await TaskTimeouts.UntilAsync(() => queues.Streams == 0, because: "an ended stream's queue is still kept");
        Assert.Equal(0, queues.QueuedBytes);
    }
}
