using System.Runtime.InteropServices;

namespace EventHub.Log;

/// <summary>
/// A sleep that honours fractions of a millisecond. .NET's waits (<c>Thread.Sleep</c>,
/// <c>Monitor.Wait</c>, <c>SemaphoreSlim.Wait</c>) count whole milliseconds, truncating a
/// <see cref="TimeSpan"/>: a 0.7 ms pause of the ticker was no pause at all, and its looks ran
/// back to back (8,300 a second at 100 events/s, where the design meant 1,000).
/// </summary>
internal static class ShortSleep
{
    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public nint Seconds;
        public nint Nanoseconds;
    }

    // libc's nanosleep: the kernel's high-resolution timers (plus the thread's timer slack,
    // 50 µs by default on Linux). Interrupted by a signal it returns early: a shorter pause.
    [DllImport("libc", EntryPoint = "nanosleep")]
    private static extern int NanoSleep(ref Timespec request, IntPtr remaining);

    public static void For(TimeSpan duration)
    {
        if (duration <= TimeSpan.Zero) return;
        if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD())
        {
            var request = new Timespec
            {
                Seconds = (nint)(duration.Ticks / TimeSpan.TicksPerSecond),
                Nanoseconds = (nint)(duration.Ticks % TimeSpan.TicksPerSecond * 100),
            };
            _ = NanoSleep(ref request, IntPtr.Zero);
        }
        else
        {
            Thread.Sleep((int)Math.Ceiling(duration.TotalMilliseconds)); // whole milliseconds only
        }
    }
}
