using EventHub.Log;

namespace EventHub.Tests.Ticks;

/// <summary>
/// The ticker's pause (<see cref="TickPacing"/>): short while events trickle in, longer while the
/// log grows faster than Ticker:BusyRate (fewer, larger ticks), growing with the quiet between
/// ticks and backing off when idle.
/// </summary>
public sealed class TickPacingTests
{
    private static readonly TickerOptions Settings = new();
    private static TimeSpan Ms(double ms) => TimeSpan.FromMilliseconds(ms);

    [Fact]
    public void At_100_events_a_second_every_pause_is_the_short_one_even_when_two_events_share_a_tick()
    {
        var pacing = new TickPacing(Settings);
        for (var i = 0; i < 1000; i++)
        {
            // One event about every 10 ms; now and then two in one tick 3 ms after the last.
            var (rows, since) = i % 50 == 7 ? (2, Ms(3)) : (1, Ms(10));
            Assert.Equal(Settings.Interval, pacing.AfterTick(rows, since));
            Assert.Equal(Settings.Interval, pacing.AfterNoTick(Ms(2)));
        }
    }

    [Fact]
    public void Under_a_heavy_write_load_the_pause_grows_and_shrinks_again_when_the_load_stops()
    {
        var pacing = new TickPacing(Settings);
        // 8 writers at ~2,500 events/s: ~9 events per tick every ~3.5 ms.
        var delay = TimeSpan.Zero;
        for (var i = 0; i < 50; i++) delay = pacing.AfterTick(9, Ms(3.5));
        Assert.Equal(Settings.BusyInterval, delay);
        Assert.True(pacing.Busy);
        // Then larger ticks at the longer pause (the same ~2,500 events/s): still busy.
        for (var i = 0; i < 20; i++) Assert.Equal(Settings.BusyInterval, pacing.AfterTick(125, Ms(51)));
        // The writes stop: the next look finds nothing; once no tick came for longer than the
        // rate's window, the pause is the quiet's again (a new event is not held 50 ms: 7.5 ms,
        // a twentieth of the 150 ms since the last tick).
        Assert.Equal(Settings.BusyInterval, pacing.AfterNoTick(Ms(51)));
        Assert.Equal(Ms(7.5), pacing.AfterNoTick(Ms(150)));
        Assert.False(pacing.Busy);
        // One event a little later: the short pause.
        Assert.Equal(Settings.Interval, pacing.AfterTick(1, Ms(200)));
    }

    [Fact]
    public void Between_ticks_the_pause_grows_in_proportion_to_the_quiet_from_the_interval_to_the_idle_interval()
    {
        var pacing = new TickPacing(Settings); // Interval 0.5 ms, IdleInterval 50 ms at IdleAfter 1 s: a twentieth
        Assert.Equal(Settings.Interval, pacing.AfterTick(1, Ms(700)));
        Assert.Equal([Ms(0.5), Ms(0.5), Ms(1), Ms(5), Ms(35), Ms(50)],
            new[] { 1, 10, 20, 100, 700, 1000 }.Select(ms => pacing.AfterNoTick(Ms(ms))));
        // The next event: the short pause again.
        Assert.Equal(Settings.Interval, pacing.AfterTick(1, Ms(1200)));
        // Looks in a quiet spell of 0.7 s (an event every 0.7 s): ~85, against 1,400 Interval apart.
        var looks = 0;
        for (var t = TimeSpan.Zero; t < Ms(700); t += pacing.AfterNoTick(t)) looks++;
        Assert.InRange(looks, 70, 110);
    }

    [Fact]
    public void A_quiet_share_of_zero_looks_every_interval_until_idle_after()
    {
        var pacing = new TickPacing(new TickerOptions { QuietShare = 0 });
        Assert.Equal([Ms(0.5), Ms(0.5), Ms(0.5)], new[] { 10, 100, 999 }.Select(ms => pacing.AfterNoTick(Ms(ms))));
        Assert.Equal(Ms(1), pacing.AfterNoTick(Ms(1001))); // then the back-off
    }

    [Fact]
    public void A_tick_too_large_to_hand_over_counts_as_busy()
    {
        var pacing = new TickPacing(Settings);
        Assert.Equal(Settings.BusyInterval, pacing.AfterTick(Settings.HandOffRows + 1, Ms(5)));
    }

    [Fact]
    public void When_idle_the_pause_doubles_up_to_the_idle_interval_and_a_tick_ends_the_back_off()
    {
        var pacing = new TickPacing(Settings);
        var delays = Enumerable.Range(0, 10).Select(_ => pacing.AfterNoTick(Settings.IdleAfter + Ms(1))).ToList();
        Assert.Equal([Ms(1), Ms(2), Ms(4), Ms(8), Ms(16), Ms(32), Ms(50), Ms(50)], delays.Take(8)); // from Interval (0.5 ms), doubling
        Assert.Equal(Settings.Interval, pacing.AfterTick(1, TimeSpan.FromSeconds(3)));
    }

    [Fact]
    public void A_busy_rate_of_zero_keeps_the_short_pause()
    {
        var pacing = new TickPacing(new TickerOptions { BusyRate = 0 });
        for (var i = 0; i < 50; i++) Assert.Equal(Settings.Interval, pacing.AfterTick(500, Ms(2)));
    }
}
