namespace EventHub.Log;

/// <summary>
/// A bound on reads running at once: past it, reads wait their turn (in arrival order as far as
/// <see cref="SemaphoreSlim"/> gives it), and a waiting read whose token is cancelled leaves the
/// queue at once without taking a slot. Shared by the catch-up and live-state bounds.
/// </summary>
public sealed class ReadSlots(int slots) : IDisposable
{
    private readonly SemaphoreSlim _slots = new(slots, slots);
    private int _queued;

    /// <summary>Reads waiting for a slot now.</summary>
    public int Queued => Volatile.Read(ref _queued);

    /// <summary>Waits for a slot; every successful call is matched by one <see cref="Exit"/>.</summary>
    public async Task EnterAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _queued);
        try
        {
            await _slots.WaitAsync(cancellationToken);
        }
        finally
        {
            Interlocked.Decrement(ref _queued);
        }
    }

    public void Exit() => _slots.Release();

    public void Dispose() => _slots.Dispose();
}
