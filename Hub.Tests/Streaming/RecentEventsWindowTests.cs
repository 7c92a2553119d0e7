using EventHub.Log;
using EventHub.Streaming.Internal;

namespace EventHub.Tests.Streaming;

/// <summary>
/// The recent-events window's two bounds: whatever it drops, it never claims to cover a position
/// it no longer holds every event after (a catch-up from there must read the log).
/// </summary>
public sealed class RecentEventsWindowTests
{
    private const string Epoch = "0000e0e0e0";

    [Fact]
    public void Past_its_payload_bound_the_window_drops_its_oldest_events_and_covers_only_what_it_holds()
    {
        var window = new RecentEventsWindow(capacity: 100, maxPayloadBytes: 1000);
        var events = Events(10, payloadBytes: 300);
        window.Initialize(LogPosition.Start, [], LogPosition.EndOf(1));
        foreach (var e in events) window.Add(e);

        Assert.Equal(3, window.Count);
        Assert.Equal(900, window.PayloadBytes);
        Assert.Equal(events[6].Position, window.CoveredFrom);
        AssertServes(window, after: events[6].Position, events[7..]);
        AssertRefuses(window, after: events[5].Position);
        Assert.False(window.TryFind(events[5].Position.Tick, events[5].Seq, out _));
        Assert.True(window.TryFind(events[8].Position.Tick, events[8].Seq, out var found));
        Assert.Equal(events[8].Position, found);
    }

    [Fact]
    public void An_event_larger_than_the_payload_bound_is_not_held_and_the_coverage_moves_past_it()
    {
        var window = new RecentEventsWindow(capacity: 100, maxPayloadBytes: 1000);
        var small = Event(1, payloadBytes: 100);
        var large = Event(2, payloadBytes: 5000);
        window.Initialize(LogPosition.Start, [], LogPosition.EndOf(1));
        window.Add(small);
        window.Add(large);

        Assert.Equal(0, window.Count);
        Assert.Equal(0, window.PayloadBytes);
        AssertRefuses(window, after: small.Position); // the large event is only in the log
        AssertServes(window, after: large.Position, []);
        var next = Event(3, payloadBytes: 100);
        window.Add(next);
        AssertServes(window, after: large.Position, [next]);
    }

    [Fact]
    public void At_start_up_the_window_keeps_the_newest_loaded_events_within_its_payload_bound()
    {
        var window = new RecentEventsWindow(capacity: 100, maxPayloadBytes: 1000);
        var events = Events(10, payloadBytes: 300);
        window.Initialize(LogPosition.Start, events, events[^1].Position);

        Assert.Equal(3, window.Count);
        AssertRefuses(window, after: LogPosition.Start);
        AssertServes(window, after: events[6].Position, events[7..]);
    }

    [Fact]
    public void At_start_up_the_window_keeps_the_newest_loaded_events_within_its_count_and_covers_only_those()
    {
        // More loaded events than the window holds: the coverage moves past the ones it drops
        // (it once skipped them and still claimed to cover the start: a silent gap).
        var window = new RecentEventsWindow(capacity: 3);
        var events = Events(10, payloadBytes: 50);
        window.Initialize(LogPosition.Start, events, events[^1].Position);

        Assert.Equal(3, window.Count);
        AssertRefuses(window, after: LogPosition.Start);
        AssertRefuses(window, after: events[5].Position);
        AssertServes(window, after: events[6].Position, events[7..]);
    }

    private static void AssertServes(RecentEventsWindow window, LogPosition after, LogEvent[] expected)
    {
        var got = new List<LogEvent>();
        Assert.True(window.TryRead(after, EventFilter.All, int.MaxValue, got));
        Assert.Equal(expected.Select(e => e.Seq), got.Select(e => e.Seq));
    }

    private static void AssertRefuses(RecentEventsWindow window, LogPosition after)
    {
        var got = new List<LogEvent>();
        Assert.False(window.TryRead(after, EventFilter.All, int.MaxValue, got));
        Assert.Empty(got);
    }

    private static LogEvent[] Events(int count, int payloadBytes) =>
        Enumerable.Range(1, count).Select(seq => Event(seq, payloadBytes)).ToArray();

    /// <summary>An event in tick 2 whose payload's JSON text is exactly <paramref name="payloadBytes"/> bytes.</summary>
    private static LogEvent Event(long seq, int payloadBytes)
    {
        var position = new LogPosition(2, 100 + (ulong)seq, seq);
        var payload = $$"""{"x": "{{new string('a', payloadBytes - 9)}}"}""";
        Assert.Equal(payloadBytes, payload.Length);
        return new LogEvent(position, Offset.Format(Epoch, position), seq, "ao", null, "session_created", payload, DateTimeOffset.UnixEpoch);
    }
}
