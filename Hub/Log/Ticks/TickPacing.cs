namespace EventHub.Log;

/// <summary>
/// How long the ticker pauses before its next look: <see cref="TickerOptions.Interval"/> while
/// events trickle in, <see cref="TickerOptions.BusyInterval"/> while the log grows faster than
/// <see cref="TickerOptions.BusyRate"/>, backing off towards <see cref="TickerOptions.IdleInterval"/>
/// when nothing comes. Not thread-safe: the ticker's own thread owns it.
/// </summary>
/// <remarks>
/// Each tick costs the database a statement and a durable commit whatever its size, on the same
/// cores as the writers. Under a heavy write load ticks every 2 ms spent a sixth of the writers'
/// throughput on ticking alone (bench, "write cost"); a longer pause makes fewer, larger ticks. A
/// rate, not a tick's size, decides: at 100 events/s a tick holds one event whether it comes 2 ms
/// or 10 ms after the last, and two events that happen to share a tick must not push the next one
/// 50 ms back (the latency target is p99 ≤ 10 ms there). The rate is smoothed over the recent
/// ticks (a moving average with a time constant of <see cref="RateWindow"/>).
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
            : Busy ? settings.BusyInterval : settings.Interval;
        return _delay;
    }
}
