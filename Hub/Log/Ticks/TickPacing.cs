namespace EventHub.Log;

/// <summary>
/// How long the ticker pauses before its next look: <see cref="TickerOptions.Interval"/> while
/// events trickle in, <see cref="TickerOptions.BusyInterval"/> while the log grows faster than
/// <see cref="TickerOptions.BusyRate"/>, and growing with the time since the last tick when nothing
/// comes: <see cref="TickerOptions.QuietShare"/> of it (a twentieth), between Interval and
/// <see cref="TickerOptions.IdleInterval"/>. Not thread-safe: the ticker's own thread owns it.
/// </summary>
/// <remarks>
/// Each tick costs the database a statement and a durable commit whatever its size, on the same
/// cores as the writers. Under a heavy write load ticks every 2 ms spent a sixth of the writers'
/// throughput on ticking alone (bench, "write cost"); a longer pause makes fewer, larger ticks. A
/// rate, not a tick's size, decides: at 100 events/s a tick holds one event whether it comes 2 ms
/// or 10 ms after the last, and two events that happen to share a tick must not push the next one
/// 50 ms back (the latency target is p99 ≤ 10 ms there). The rate is smoothed over the recent
/// ticks (a moving average with a time constant of <see cref="RateWindow"/>).
///
/// Between ticks the pause grows with the quiet because looking every Interval cost a log of a few
/// events a second as much as one of a hundred: ~2,000 looks a second, a quarter of a core in the
/// hub and as much in the database (the demo's event every 0.7 s). An event after a quiet spell
/// waits for its look at most a twentieth of that spell (0.5 ms after 10 ms, 5 ms after 100 ms),
/// so at 100 events/s and faster nothing changes (bench/results/2026-12-06-quiet-looks.md).
/// </remarks>
public sealed class TickPacing(TickerOptions settings)
{
    /// <summary>The time constant of the rate's moving average.</summary>
    public static readonly TimeSpan RateWindow = TimeSpan.FromMilliseconds(100);

    private TimeSpan _delay = settings.Interval;

    /// <summary>The smoothed rate of events in the ticks made (events per second).</summary>
    public double Rate { get; private set; }

    /// <summary>Whether the log grows faster than <see cref="TickerOptions.BusyRate"/>.</summary>
    public bool Busy => settings.BusyRate > 0 && Rate >= settings.BusyRate;

    /// <summary>
    /// After a round that made a tick of <paramref name="rows"/> events, <paramref name="sinceLastTick"/>
    /// after the previous tick (a tick too large to hand over counts as <see cref="TickerOptions.HandOffRows"/> + 1).
    /// </summary>
    public TimeSpan AfterTick(int rows, TimeSpan sinceLastTick)
    {
        var seconds = Math.Max(sinceLastTick.TotalSeconds, settings.Interval.TotalSeconds / 2);
        var weight = Math.Min(1, seconds / RateWindow.TotalSeconds);
        Rate += weight * (rows / seconds - Rate);
        _delay = Busy ? settings.BusyInterval : settings.Interval;
        return _delay;
    }

    /// <summary>After a round that made no tick, <paramref name="sinceLastTick"/> after the last one.</summary>
    public TimeSpan AfterNoTick(TimeSpan sinceLastTick)
    {
        if (sinceLastTick > RateWindow) Rate = 0; // the writes stopped (or slowed right down)
        _delay = sinceLastTick > settings.IdleAfter
            ? TimeSpan.FromTicks(Math.Min(Math.Max(_delay.Ticks, settings.Interval.Ticks) * 2, settings.IdleInterval.Ticks))
            : Busy ? settings.BusyInterval : Quiet(sinceLastTick);
        return _delay;
    }

    /// <summary>The pause after <paramref name="sinceLastTick"/> without a tick: QuietShare of it, between Interval and IdleInterval.</summary>
    private TimeSpan Quiet(TimeSpan sinceLastTick)
    {
        var share = (long)(sinceLastTick.Ticks * settings.QuietShare);
        return TimeSpan.FromTicks(Math.Max(settings.Interval.Ticks, Math.Min(share, settings.IdleInterval.Ticks)));
    }
}
