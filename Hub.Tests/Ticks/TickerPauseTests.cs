using System.Diagnostics;
using EventHub.Log;
using EventHub.Tests.Infrastructure;

namespace EventHub.Tests.Ticks;

/// <summary>
/// The ticker's pause honours fractions of a millisecond. .NET's waits count whole milliseconds
/// and truncate a TimeSpan: a pause under 1 ms was none, and with events flowing the leader's looks
/// ran back to back (4,400-8,300 a second at 100 events/s with a 1 ms interval, on this machine).
/// </summary>
public sealed class TickerPauseTests
{
    [Fact]
    public void On_linux_the_short_sleep_is_libcs_nanosleep_not_a_whole_millisecond_wait()
    {
        if (OperatingSystem.IsLinux())
            Assert.True(ShortSleep.Precise, "libc's nanosleep was not found: pauses fall back to whole milliseconds");
    }

    [Theory]
    [InlineData(0.3)]
    [InlineData(0.7)]
    [InlineData(1.6)]
    public void A_short_sleep_lasts_at_least_what_was_asked(double ms)
    {
        var asked = TimeSpan.FromMilliseconds(ms);
        var slept = Stopwatch.StartNew();
        ShortSleep.For(asked);
        slept.Stop();
        // A wait that truncates to whole milliseconds returns at once for 0.3 and 0.7, after 1 ms for 1.6.
        Assert.True(slept.Elapsed >= asked, $"asked for {ms} ms, slept {slept.Elapsed.TotalMilliseconds:F3} ms");
        Assert.True(slept.Elapsed < TimeSpan.FromSeconds(1), $"asked for {ms} ms, slept {slept.Elapsed.TotalMilliseconds:F0} ms");
    }

    [Fact]
    public async Task With_events_flowing_the_leaders_looks_are_an_interval_apart_when_the_interval_is_under_a_millisecond()
    {
        await using var db = await TestDatabase.CreateAsync();
        // No idle back-off (IdleAfter): after one event the looks stay Interval apart.
        await using var hub = await HubServer.StartAsync(db.ConnectionString, new Dictionary<string, string?>
        {
            ["Ticker:Interval"] = "00:00:00.0008", ["Ticker:IdleAfter"] = "00:01:00",
        });
        await TaskTimeouts.UntilAsync(() => hub.Get<Ticker>().IsLeader, because: "the only hub never took the ticker's lease");
        var ticker = hub.Get<Ticker>();
        await using var sse = await SseTestClient.ConnectAsync(hub.BaseAddress, "after=0");
        await db.Writer.SessionAsync("ao", 1);
        await sse.ReadEventAsync();

        var before = ticker.Rounds;
        var window = Stopwatch.StartNew();
        await Task.Delay(TimeSpan.FromSeconds(1)); // a window to count in, not a synchronisation
        var rounds = ticker.Rounds - before;
        var perSecond = rounds / window.Elapsed.TotalSeconds;
        // 0.8 ms apart: at most 1,250 a second (fewer on a loaded machine, never more).
        Assert.True(perSecond <= 1_500, $"the leader made {perSecond:F0} looks a second with Ticker:Interval 0.8 ms");
        Assert.True(perSecond >= 50, $"the leader made {perSecond:F0} looks a second: it is not looking");

        await db.Writer.SessionAsync("ao", 2);
        Assert.Equal("ao-2", (await sse.ReadEventAsync()).Payload.GetProperty("id").GetString());
    }
}
