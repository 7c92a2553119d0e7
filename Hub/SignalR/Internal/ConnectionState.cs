namespace EventHub.SignalR.Internal;

/// <summary>
/// What one SignalR connection holds: its slot in the connection limits and its count of open
/// streams. The count is changed by hub calls and by pumps ending in the background, hence Interlocked.
/// </summary>
internal sealed class ConnectionState(IDisposable lease) : IDisposable
{
    private int _streams;

    public int OpenStreams => Volatile.Read(ref _streams);

    /// <summary>Counts one more stream unless <paramref name="max"/> are open.</summary>
    public bool TryOpenStream(int max)
    {
        while (true)
        {
            var current = Volatile.Read(ref _streams);
            if (current >= max) return false;
            if (Interlocked.CompareExchange(ref _streams, current + 1, current) == current) return true;
        }
    }

    public void CloseStream() => Interlocked.Decrement(ref _streams);

    public void Dispose() => lease.Dispose();
}
