using System.Runtime.InteropServices;

namespace EventHub.Log;

/// <summary>
/// A sleep that honours fractions of a millisecond. .NET's waits (<c>Thread.Sleep</c>,
/// <c>Monitor.Wait</c>, <c>SemaphoreSlim.Wait</c>) count whole milliseconds, truncating a
/// <see cref="TimeSpan"/> (<see cref="WakeupSignal.Wait"/> says what that did to the ticker).
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

    /// <summary>
    /// Whether fractions of a millisecond are honoured here: libc's nanosleep was found (decided
    /// once; where "libc" does not resolve, sleeps fall back to whole milliseconds).
    /// </summary>
    public static bool Precise { get; } = Probe();

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
        if (Precise)
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
