using System.Diagnostics;
using EventHub.Log;
using EventHub.Tests.Infrastructure;

namespace EventHub.Tests.Ticks;

/// <summary>
/// The ticker's pause honours fractions of a millisecond. .NET's waits count whole milliseconds
/// and truncate a TimeSpan: a pause under 1 ms was none, and with events flowing the leader's looks
/// ran back to back (4,400-8,300 a second at 100 events/s with a 1 ms interval, on this machine).
/// </summary>
[Collection(AloneCollection.Name)] // bounds on time: other tests' load on the 2 cores would show in them
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
        // No back-off (IdleAfter, QuietShare): after one event the looks stay Interval apart.
        await using var hub = await HubServer.StartAsync(db.ConnectionString, new Dictionary<string, string?>
        {
            ["Ticker:Interval"] = "00:00:00.0008", ["Ticker:IdleAfter"] = "00:01:00", ["Ticker:QuietShare"] = "0",
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

    [Fact]
    public void A_pause_of_whole_milliseconds_blocks_at_once_without_spinning_on_the_cpu()
    {
        if (!File.Exists("/proc/thread-self/schedstat")) return; // Linux: the thread's time on a CPU, in ns
        var signal = new WakeupSignal();
        const int Pauses = 100;
        var windows = new List<(double PerPauseUs, TimeSpan Waited)>();
        // On a thread of its own, as the ticker's: each pause times out (nothing signals). Three
        // windows of 100 pauses, and the quietest counts: a spinning wait spins in every pause of
        // every window, while the runtime's occasional work on this thread (call counting and
        // tier-up of the wait's own code, which is tiered now that the hub is optimized in every
        // build) lands in one (a single window measured 110 µs a pause once in CI).
        var thread = new Thread(() =>
        {
            for (var i = 0; i < 10; i++) signal.Wait(TimeSpan.FromMilliseconds(1)); // compiled
            for (var w = 0; w < 3; w++)
            {
                var before = OnCpuNanoseconds();
                var clock = Stopwatch.StartNew();
                for (var i = 0; i < Pauses; i++) signal.Wait(TimeSpan.FromMilliseconds(2));
                windows.Add(((OnCpuNanoseconds() - before) / 1000.0 / Pauses, clock.Elapsed));
            }
        });
        thread.Start();
        Assert.True(thread.Join(TimeSpan.FromSeconds(30)), "the pauses did not end");
        var (perPauseUs, waited) = windows.MinBy(w => w.PerPauseUs);
        // SemaphoreSlim.Wait(2 ms) spins first (up to 140 rounds of spinning, sched_yield and
        // Sleep(0)): 170-186 µs on a CPU per pause on the 2-core machine; a blocking wait 22-65.
        Assert.True(perPauseUs < 100, $"{perPauseUs:F1} µs on a CPU per 2 ms pause in the quietest of 3 windows " +
            $"({string.Join(", ", windows.Select(w => $"{w.PerPauseUs:F1}"))}; {waited.TotalMilliseconds:F0} ms for {Pauses})");
        Assert.All(windows, w => Assert.True(w.Waited >= TimeSpan.FromMilliseconds(2 * Pauses), "the pauses ended early"));

        // Signalled, the pause ends at once; the signal is taken once.
        signal.Signal();
        Assert.True(signal.Wait(TimeSpan.FromSeconds(10)));
        Assert.False(signal.Wait(TimeSpan.FromMilliseconds(1)));
    }

    private static long OnCpuNanoseconds() =>
        long.Parse(File.ReadAllText("/proc/thread-self/schedstat").Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
}
