using EventHub.Log;

namespace EventHub.Tests.Streaming;

/// <summary>Transports' encodings kept on the event (<see cref="LogEvent.Encoded{T}"/>): built once per event and encoding.</summary>
public sealed class EventEncodingTests
{
    private static LogEvent Event() => new(new LogPosition(1, 100, 1), "e.1.1", 1, "ao", null, "session_created", """{"id":"s1"}""", DateTimeOffset.UnixEpoch);

    private sealed class Counting(string name) : EventEncoding<string>
    {
        public int Built;
        public override string Encode(LogEvent e)
        {
            Interlocked.Increment(ref Built);
            return name + ":" + e.Offset;
        }
    }

    [Fact]
    public void Each_encoding_is_built_once_per_event_and_kept_apart_from_the_others()
    {
        var (sse, signalR) = (new Counting("sse"), new Counting("signalr"));
        var (a, b) = (Event(), Event());
        Assert.Equal("sse:e.1.1", a.Encoded(sse));
        Assert.Same(a.Encoded(sse), a.Encoded(sse));
        Assert.Equal("signalr:e.1.1", a.Encoded(signalR));
        Assert.Same(a.Encoded(sse), a.Encoded(sse));
        b.Encoded(sse);
        Assert.Equal(2, sse.Built); // one per event
        Assert.Equal(1, signalR.Built);
    }

    [Fact]
    public async Task Threads_that_race_for_an_encoding_all_end_up_with_the_one_the_event_kept()
    {
        var encoding = new Counting("sse");
        for (var round = 0; round < 200; round++)
        {
            var e = Event();
            using var start = new Barrier(4);
            var seen = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
            {
                start.SignalAndWait();
                e.Encoded(encoding);
                return e.Encoded(encoding); // after the race: what the event kept
            })));
            Assert.All(seen, s => Assert.Same(seen[0], s));
        }
    }
}
