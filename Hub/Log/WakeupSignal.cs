namespace EventHub.Log;

/// <summary>
/// An auto-reset wake-up that remembers at most one signal: the in-memory
/// <see cref="IChangeNotifier"/> (for unit tests) and the core of the PostgreSQL one.
/// </summary>
public class WakeupSignal(TimeProvider timeProvider) : IChangeNotifier
{
    // Count 0 or 1: a pending wake-up is remembered once however many signals arrive.
    private readonly SemaphoreSlim _signal = new(0, 1);

    public WakeupSignal() : this(TimeProvider.System) { }

    private long _latestTick;
    private int _readRequested;

    public long LatestTick => Interlocked.Read(ref _latestTick);

    /// <summary>Signals the announcement of tick <paramref name="tick"/>.</summary>
    public void Signal(long tick)
    {
        long seen;
        while ((seen = Interlocked.Read(ref _latestTick)) < tick && Interlocked.CompareExchange(ref _latestTick, tick, seen) != seen) { }
        Wake();
    }

    /// <summary>A wake-up that names no tick: the next <see cref="TakeReadRequest"/> says to read.</summary>
    public void Signal()
    {
        Volatile.Write(ref _readRequested, 1);
        Wake();
    }

    public bool TakeReadRequest() => Interlocked.Exchange(ref _readRequested, 0) == 1;

    private void Wake()
    {
        // A pending wake-up is the common case for a signal nobody waits on (the tail's "round
        // ended", raised by every ticker round, ~1,000 a second): skip the Release that would throw.
        if (_signal.CurrentCount > 0) return;
        try { _signal.Release(); }
        catch (SemaphoreFullException) { /* another signal won the race: one wake-up is pending */ }
    }

    /// <summary>
    /// The blocking form of <see cref="WaitAsync"/>, for a loop on a thread of its own: the wait
    /// ends within a few microseconds of the signal or the timeout, with no thread-pool hop.
    /// A blocking wait counts whole milliseconds (a TimeSpan is truncated): it takes those,
    /// and a short sleep the rest. Until then a timeout under a millisecond was none, and the
    /// ticker's looks ran back to back (4,400-8,300 a second at 100 events/s with a 1 ms interval).
    /// A signal during the short sleep (under a millisecond) does not end it; it stays pending,
    /// so the next wait ends at once.
    /// </summary>
    public bool Wait(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var whole = TimeSpan.FromMilliseconds(Math.Floor(timeout.TotalMilliseconds));
        if (whole > TimeSpan.Zero && WaitWithoutSpinning(whole, cancellationToken)) return true;
        if (timeout > whole && !cancellationToken.IsCancellationRequested) ShortSleep.For(timeout - whole);
        return false;
    }

    /// <summary>
    /// Waits for the signal, blocking at once. Not <c>SemaphoreSlim.Wait(timeout)</c>: before it
    /// blocks it spins up to 140 rounds, most of them <c>sched_yield</c> or <c>Sleep(0)</c>. The
    /// ticker pauses 20 ms between ticks under a heavy write load, so on 2 cores those yields went
    /// to the writers' backends and back, 65 of them a round (strace), an eighth of the ticker
    /// thread's samples (perf); 170-186 µs on a CPU per 2 ms pause, 22-65 without
    /// (TickerPauseTests). The wait handle's wait is a plain blocking wait; the semaphore's count
    /// stays the one truth (taken with a zero wait).
    /// </summary>
    private bool WaitWithoutSpinning(TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (_signal.Wait(0, CancellationToken.None)) return true;
        WaitHandle[] handles = cancellationToken.CanBeCanceled
            ? [_signal.AvailableWaitHandle, cancellationToken.WaitHandle]
            : [_signal.AvailableWaitHandle];
        var until = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (true)
        {
            var left = until - Environment.TickCount64;
            if (left <= 0) return false;
            var which = WaitHandle.WaitAny(handles, (int)left);
            if (which == WaitHandle.WaitTimeout) return false;
            cancellationToken.ThrowIfCancellationRequested();
            // The handle is set while the count is 1; another waiter may have taken it since.
            if (_signal.Wait(0, CancellationToken.None)) return true;
        }
    }

    public async Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        if (_signal.Wait(0, CancellationToken.None)) return true;
        // The timeout goes through a token rather than Task.WhenAny with a delay: an abandoned
        // semaphore wait would swallow the next signal.
        using var timeoutSource = new CancellationTokenSource(timeout, timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeoutSource.Token);
        try
        {
            await _signal.WaitAsync(linked.Token);
            return true;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }
}
