using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using EventHub.Observability;
using EventHub.Tests.Infrastructure;

namespace EventHub.Tests.Sse;

/// <summary>
/// A client that does not read holds its own stream back: a catch-up served from memory is ready
/// all at once, and the SSE writer must not pour it into the response pipe faster than the client
/// takes it. Real hub, real PostgreSQL, a raw socket that stops reading.
/// </summary>
[Collection(AloneCollection.Name)]
public sealed class SseBackpressureTests
{
    private const int Events = 8_000;
    private const int UrlLength = 3_000; // each frame is a little over 3 KB: about 25 MB in all

    [Fact]
    public async Task A_client_that_stops_reading_holds_a_memory_served_catch_up_back_to_a_few_megabytes()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var hub = await HubServer.StartAsync(db.ConnectionString);
        var delivered = new DeliveredCounter(hub);

        // Written while the hub runs, so the recent-events window holds all of it: the catch-up
        // below is served from memory, all ready at once.
        await using (var marker = await SseTestClient.ConnectAsync(hub.BaseAddress, "project=big&type=session_created"))
        {
            await db.Writer.SessionAsync("big", 1);
            Assert.Equal("session_created", (await marker.ReadEventAsync()).Type);
            await db.Writer.ExecuteAsync($"""
                INSERT INTO pr (url, session_id, number, pr_state, ci_state)
                SELECT repeat('u', {UrlLength}) || i, 'big-1', i, 'open', 'pending' FROM generate_series(1, {Events}) i
                """);
            // Published in order: once this arrives, every PR event is in the window.
            await db.Writer.SessionAsync("big", 2);
            Assert.Equal("big-2", (await marker.ReadEventAsync(TimeSpan.FromSeconds(60))).Payload.GetProperty("id").GetString());
        }

        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        await socket.ConnectAsync(IPAddress.Loopback, hub.BaseAddress.Port);
        await socket.SendAsync(Encoding.ASCII.GetBytes(
            $"GET /api/v1/events?project=big&type=pr_created&after=0 HTTP/1.1\r\nHost: 127.0.0.1:{hub.BaseAddress.Port}\r\n\r\n"));
        // Read until the first event has arrived, then never again.
        var received = new StringBuilder();
        var buffer = new byte[4096];
        using (var cts = new CancellationTokenSource(TaskTimeouts.Default))
            while (!received.ToString().Contains("event: pr_created"))
            {
                var n = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
                Assert.NotEqual(0, n);
                received.Append(Encoding.ASCII.GetString(buffer, 0, n));
            }

        // Nothing announces "the writer is now waiting for the client": wait until the count stops
        // moving (or reaches everything, which is the failure this test is about).
        var taken = await delivered.SettledAsync(Events, quiet: TimeSpan.FromSeconds(1), bound: TimeSpan.FromSeconds(60));
        var frameBytes = UrlLength + 300;
        // The kernel's socket buffers (a few MB on loopback at most), Kestrel's response buffer
        // (64 KiB) and the writer's flush threshold: far below the 25 MB of the whole catch-up.
        Assert.True(taken * (long)frameBytes < 8L * 1024 * 1024,
            $"The writer took {taken} of {Events} events (~{taken * (long)frameBytes / 1024 / 1024} MB) for a client that read one.");
    }

    /// <summary>Counts <c>eventhub.events.delivered</c> of one hub's SSE streams.</summary>
    private sealed class DeliveredCounter
    {
        private readonly MeterListener _listener = new();
        private long _count;
        private long _lastChange;

        public DeliveredCounter(HubServer hub)
        {
            // The hub's meter factory hands back the meter the hub created (same name, same scope).
            var meter = hub.Get<IMeterFactory>().Create(EventHubMetrics.MeterName);
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (ReferenceEquals(instrument.Meter, meter) && instrument.Name == "eventhub.events.delivered")
                    listener.EnableMeasurementEvents(instrument);
            };
            _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
            {
                foreach (var tag in tags)
                    if (tag is { Key: "transport", Value: EventHubMetrics.Sse })
                    {
                        Interlocked.Add(ref _count, value);
                        Interlocked.Exchange(ref _lastChange, Environment.TickCount64);
                    }
            });
            _listener.Start();
        }

        public async Task<long> SettledAsync(long all, TimeSpan quiet, TimeSpan bound)
        {
            var deadline = Environment.TickCount64 + (long)bound.TotalMilliseconds;
            while (Environment.TickCount64 < deadline)
            {
                var count = Interlocked.Read(ref _count);
                if (count >= all) return count;
                if (count > 0 && Environment.TickCount64 - Interlocked.Read(ref _lastChange) >= quiet.TotalMilliseconds) return count;
                await Task.Delay(50);
            }
            return Interlocked.Read(ref _count);
        }
    }
}
