using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
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
        using var slow = new ClientWebSocket();
        await slow.ConnectAsync(new Uri(new Uri(_hub.BaseAddress.ToString().Replace("http", "ws")), "/hubs/events"),
            CancellationToken.None).WithTimeout();
        await SendAsync(slow, """{"protocol":"json","version":1}""");
        var reader = new SignalRFrameReader(slow);
        Assert.Equal("{}", await reader.NextAsync()); // handshake accepted
        await SendAsync(slow, """{"type":4,"invocationId":"1","target":"StreamEvents","arguments":[{"projects":["ao"],"after":null}]}""");
        await using var fast = await SseTestClient.ConnectAsync(_hub.BaseAddress, "project=ao");
        // The stream is open once the fan-out counts it (SignalR sends nothing until the first item).
        await TaskTimeouts.UntilAsync(() => fanout.SubscriberCount >= 2);

        await WriteEventsAsync();
        var fastFrames = await fast.ReadEventsAsync(Events, TimeSpan.FromSeconds(60));
        await TaskTimeouts.UntilAsync(() => fanout.LaggedTotal > lagBefore, because: "the stalled subscriber never overflowed its buffer");

        var offsets = new List<string>(Events);
        while (offsets.Count < Events)
        {
            var message = JsonDocument.Parse(await reader.NextAsync()).RootElement;
            var type = message.GetProperty("type").GetInt32();
            if (type == 6) continue; // ping
            Assert.Equal(2, type);   // a stream item, never a completion or an error
            offsets.Add(message.GetProperty("item").GetProperty("offset").GetString()!);
        }
        Assert.Equal(fastFrames.Select(f => f.Id), offsets);
    }

    private static Task SendAsync(ClientWebSocket socket, string json) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(json + "\u001e"), WebSocketMessageType.Text, true, CancellationToken.None).WithTimeout();

    /// <summary>Splits a SignalR text stream into its record-separated JSON messages.</summary>
    private sealed class SignalRFrameReader(ClientWebSocket socket)
    {
        private readonly StringBuilder _pending = new();
        private readonly byte[] _buffer = new byte[64 * 1024];

        public async Task<string> NextAsync()
        {
            while (true)
            {
                var text = _pending.ToString();
                var end = text.IndexOf('\u001e');
                if (end >= 0)
                {
                    _pending.Remove(0, end + 1);
                    return text[..end];
                }
                var result = await socket.ReceiveAsync(_buffer, CancellationToken.None).WithTimeout();
                if (result.MessageType == WebSocketMessageType.Close) throw new EndOfStreamException("The hub closed the socket.");
                _pending.Append(Encoding.UTF8.GetString(_buffer, 0, result.Count));
            }
        }
    }
}
