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

    /// <summary>
    /// Whether a wake-up since the last call asked for a read whatever the announced ticks say
    /// (a reconnect of the wake-up, after which announcements may have been lost; any wake-up that
    /// names no tick). Clears the request. A reader that has published through
    /// <see cref="LatestTick"/> and gets false may skip its read.
    /// </summary>
    bool TakeReadRequest();
}
