namespace EventHub.Log;

/// <summary>
/// Wakes the tail when the log may have grown. A wake-up carries no data and may be lost or
/// spurious: the log read is the truth, and the tail polls anyway at its fallback interval.
/// </summary>
public interface IChangeNotifier
{
    /// <summary>
    /// Completes when a change was signalled since the previous call returned, or when
    /// <paramref name="timeout"/> passes. Returns true when woken by a signal.
    /// Signals that arrive while nobody waits are remembered (at most one).
    /// </summary>
    Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken = default);

    /// <summary>
    /// The newest tick announced so far (0: none). A reader that sees an older head (a standby
    /// behind the primary) knows to look again soon rather than at the next announcement.
    /// </summary>
    long LatestTick { get; }
}
