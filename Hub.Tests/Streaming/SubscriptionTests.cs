using EventHub.Log;
using EventHub.Streaming;
using EventHub.Tests.Infrastructure;
using EventHub.Streaming.Internal;

namespace EventHub.Tests.Streaming;

/// <summary>The lag hand-over between the fan-out (writer) and a stream (reader) of one subscription.</summary>
public sealed class SubscriptionTests
{
    [Fact]
    public async Task A_reader_that_drains_the_buffer_while_the_writer_finds_it_full_is_woken_and_sees_the_lag()
    {
        var s = new Subscription(EventFilter.All, 2);
        Assert.False(s.Offer(Event(1)));
        Assert.False(s.Offer(Event(2)));

        // The reader's loop (EventStream.ReadAllAsync: drain, check the lag, wait), run exactly
        // between the writer finding the buffer full and it signalling the lag.
        Task<bool>? readerWait = null;
        s.OnOverflow = () =>
        {
            while (s.TryRead(out _)) { }
            if (!s.IsLagged) readerWait = s.WaitToReadAsync().AsTask();
        };
        Assert.True(s.Offer(Event(3)));
        s.OnOverflow = null;

        // Nothing more will be offered to a lagged subscription: this wake-up is the reader's only one.
        Assert.NotNull(readerWait);
        Assert.True(await readerWait.WithTimeout(TimeSpan.FromSeconds(5)));
        Assert.False(s.TryRead(out _)); // event 3 was refused: the reader reads it from the log
        Assert.True(s.IsLagged);
    }

    [Fact]
    public void A_buffer_holds_its_capacity_of_events_and_the_lag_signal_is_not_an_event()
    {
        var s = new Subscription(EventFilter.All, 3);
        for (var i = 1; i <= 5; i++) s.Offer(Event(i));
        Assert.True(s.IsLagged);
        Assert.Equal(1, s.LagCount);
        var read = new List<long>();
        while (s.TryRead(out var e)) read.Add(e.Seq);
        Assert.Equal([1L, 2L, 3L], read);
        s.Rearm();
        Assert.False(s.Offer(Event(6)));
        Assert.True(s.TryRead(out var next) && next.Seq == 6);
    }

    [Fact]
    public void A_buffer_holds_its_payload_capacity_past_the_first_event_and_lags_past_it()
    {
        var s = new Subscription(EventFilter.All, 100, payloadCapacity: 250);
        Assert.False(s.Offer(Event(1, 100)));
        Assert.False(s.Offer(Event(2, 100)));
        Assert.True(s.Offer(Event(3, 100))); // 300 bytes: lagged, though 97 slots are free
        Assert.True(s.IsLagged);
        var read = new List<long>();
        while (s.TryRead(out var e)) read.Add(e.Seq);
        Assert.Equal([1L, 2L], read);

        // Drained, the bytes are free again; an event larger than the bound is taken alone.
        s.Rearm();
        Assert.False(s.Offer(Event(4, 1000)));
        Assert.True(s.Offer(Event(5, 1)));
        Assert.True(s.TryRead(out var big) && big.Seq == 4);
    }

    [Fact]
    public async Task A_completed_subscription_ends_its_readers_wait_and_refuses_offers_without_counting_a_lag()
    {
        var s = new Subscription(EventFilter.All, 2);
        var wait = s.WaitToReadAsync().AsTask();
        s.Complete(); // a stream cancelled while still in the fan-out
        Assert.False(await wait.WithTimeout(TimeSpan.FromSeconds(5)));
        Assert.False(s.Offer(Event(1)));
        Assert.False(s.IsLagged);
        Assert.Equal(0, s.LagCount);
    }

    private static LogEvent Event(long seq, int payloadSize = 2)
    {
        var p = new LogPosition(10, 1, seq);
        var payload = payloadSize <= 2 ? "{}" : $"{{\"b\":\"{new string('x', payloadSize - 8)}\"}}";
        return new LogEvent(p, Offset.Format("0123456789", p), seq, "ao", null, "session_created", payload, DateTimeOffset.UtcNow);
    }
}
