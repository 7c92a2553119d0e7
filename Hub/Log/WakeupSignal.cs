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

    public long LatestTick => Interlocked.Read(ref _latestTick);

    /// <summary>Signals the announcement of tick <paramref name="tick"/>.</summary>
    public void Signal(long tick)
    {
        long seen;
        while ((seen = Interlocked.Read(ref _latestTick)) < tick && Interlocked.CompareExchange(ref _latestTick, tick, seen) != seen) { }
        Signal();
    }

    public void Signal()
    {
        try { _signal.Release(); }
        catch (SemaphoreFullException) { /* one wake-up is already pending */ }
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
