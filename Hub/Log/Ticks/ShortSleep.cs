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

    // Whether libc's nanosleep could be called here (decided once; a C library that "libc" does
    // not resolve to falls back to whole milliseconds rather than failing every pause).
    private static readonly bool HasNanoSleep = Probe();

    /// <summary>Whether fractions of a millisecond are honoured here (libc's nanosleep was found).</summary>
    public static bool Precise => HasNanoSleep;

    private static bool Probe()
    {
        if (!(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD())) return false;
        try
        {
            var none = new Timespec();
            return NanoSleep(ref none, IntPtr.Zero) == 0;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    public static void For(TimeSpan duration)
    {
        if (duration <= TimeSpan.Zero) return;
        if (HasNanoSleep)
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
